/**
 * Where `npm run insights -- --publish` puts its reports in the R2 bucket `LOG`, and what the
 * admin page lists: `reports/<site>/<name>.html` (and `.json`, the findings), where the name is
 * the chosen period's start date and the time of the run, so keys sort oldest first.
 */
export const REPORT_PREFIX = 'reports/';

/** `<site>/<YYYY-MM-DD>_<run ms>`: what the admin page's URLs carry (checked before any read). */
export const REPORT_NAME = /^[a-z0-9][a-z0-9_-]{0,63}\/\d{4}-\d{2}-\d{2}_\d{13}$/;

export function reportName(site: string, periodFrom: number, runAt: number): string {
  return `${site}/${new Date(periodFrom).toISOString().slice(0, 10)}_${String(Math.floor(runAt)).padStart(13, '0')}`;
}

export const reportKey = (name: string, ext: 'html' | 'json'): string => `${REPORT_PREFIX}${name}.${ext}`;
