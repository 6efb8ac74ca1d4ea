/**
 * `npm run demo:clicks [-- --seconds 5] [--url http://127.0.0.1:8787] [--token …]`: a few
 * seconds of simulated visitors on the demo's landing page, through the proxy as a browser would
 * come (each a new visitor), clicking the headline as the snippet reports it: the `urgency` arm
 * at 35 %, the others at 5 %. Then it waits for the test's next snapshot and prints its
 * allocation before and after, which moves towards `urgency`.
 *
 * The token: --token, else ATTUNE_ADMIN_TOKEN, else ADMIN_TOKEN from ./.dev.vars (npm start's).
 */
import { existsSync, readFileSync } from 'node:fs';
import { CliError, cliMain, type CliSpec, UsageError } from '../src/train/cli.ts';
import { fetchWorker, URL_OPTION, workerUrl } from '../src/train/worker-url.ts';
import { parseDevVars } from './dev-vars.ts';

const KEY = 'demo-hero';
const RATES: Record<string, number> = { urgency: 0.35, benefit: 0.05, social: 0.05 };

export const SPEC = {
  name: 'demo:clicks',
  usage: 'npm run demo:clicks [-- --seconds 5] [--url URL] [--token TOKEN]',
  summary:
    "With npm start running: a few seconds of simulated visitors on the demo's landing page, through the proxy, clicking the headline test demo-hero (urgency at 35 %, the others at 5 %); prints its allocation before and after the snapshot that counts the clicks.",
  options: {
    seconds: { type: 'number', arg: 'S', help: 'how long to send visitors', default: 5, min: 0.1, max: 600 },
    url: URL_OPTION,
    token: { type: 'string', arg: 'TOKEN', help: 'the admin token (env ATTUNE_ADMIN_TOKEN; default ADMIN_TOKEN from ./.dev.vars)' },
    workers: { type: 'integer', arg: 'N', help: 'visitors in flight at once', default: 4, min: 1, max: 64 },
  },
} as const satisfies CliSpec;

interface Results {
  arms: { arm: string; impressions: number; conversions: number }[];
  allocation: Record<string, number> | null;
  /** the snapshots: what each published allocation was computed from */
  history: { conversions: number[] }[];
}

await cliMain(import.meta.url, SPEC, async ({ values }) => {
  const base = workerUrl(values.url);
  const token =
    values.token ??
    process.env.ATTUNE_ADMIN_TOKEN ??
    (existsSync('.dev.vars') ? parseDevVars(readFileSync('.dev.vars', 'utf8')).get('ADMIN_TOKEN') : undefined);
  if (!token)
    throw new UsageError('no admin token: pass --token, set ATTUNE_ADMIN_TOKEN, or run from the checkout whose .dev.vars npm start wrote');

  async function results(): Promise<Results> {
    const res = await fetchWorker(base, `/admin/experiments/${KEY}/results?history=1`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new CliError(`results of ${KEY}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Results;
  }

  const line = (r: Results) =>
    r.arms.map((a) => `${a.arm} ${((r.allocation?.[a.arm] ?? 0) * 100).toFixed(1)} % (${a.conversions}/${a.impressions})`).join(' · ');

  /** One visitor: the landing page as a browser asks for it, and maybe a click on the headline. */
  async function visit(): Promise<{ arm: string; clicked: boolean } | null> {
    const page = await (await fetchWorker(base, '/', { headers: { accept: 'text/html' } })).text();
    const boot = /\.boot=(\{.*?\})<\/script>/.exec(page);
    if (!boot) return null;
    const { vid, d } = JSON.parse(boot[1]!) as { vid: string; d: [string, string | null, string][] };
    const hero = d.find(([slot]) => slot === 'hero');
    if (!hero || hero[1] === null) return null;
    const [, arm, decisionId] = hero;
    const clicked = Math.random() < (RATES[arm] ?? 0);
    if (clicked) {
      // what the snippet sends for a click inside the slot (its data-attune-* attributes)
      await fetchWorker(base, '/v1/events', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({
          events: [{ name: 'click', decisionId, slot: 'hero', variant: arm, experiment: KEY, visitorId: vid, ts: Date.now() }],
        }),
      });
    }
    return { arm, clicked };
  }

  const before = await results();
  console.log(`before: ${line(before)}`);
  const end = Date.now() + values.seconds * 1000;
  let visitors = 0;
  let clicks = 0;
  await Promise.all(
    Array.from({ length: values.workers }, async () => {
      while (Date.now() < end) {
        const v = await visit();
        if (v === null) throw new CliError(`${base}/ shows no ${KEY} headline: is npm start running with the demo?`);
        visitors++;
        if (v.clicked) clicks++;
      }
    }),
  );
  console.log(`${visitors} visitors, ${clicks} clicks in ${values.seconds} s; waiting for the next snapshot…`);
  // The clicks reach the test through the queue and its consumer; its next snapshot (every
  // publishSeconds while data arrive) is computed from them.
  const published = (r: Results) => (r.history.at(-1)?.conversions ?? []).reduce((t, n) => t + n, 0);
  const target = published(before) + clicks;
  const deadline = Date.now() + 30_000;
  let after = await results();
  while (published(after) < target && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    after = await results();
  }
  console.log(`after:  ${line(after)}`);
  if (published(after) < target) console.log('(not every click was in a snapshot within 30 s: run it again to see the rest)');
});
