/** The admin page's create form → an experiment config (validated afterwards like any API body). */

export function formToConfig(form: Record<string, string>): unknown {
  const type = form.payloadType ?? 'text';
  const arms = (form.arms ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((line) => {
      const bar = line.indexOf('|');
      const key = (bar < 0 ? line : line.slice(0, bar)).trim();
      const text = bar < 0 ? key : line.slice(bar + 1).trim();
      let value: unknown = text;
      if (type === 'json') {
        try {
          value = JSON.parse(text);
        } catch {
          value = text;
        }
      }
      return { key, payload: { type, value } };
    });
  const num = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : Number(s));
  return {
    key: form.key,
    name: form.name,
    arms,
    goals: (form.goals ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g !== ''),
    algorithm: { name: form.algorithm || 'thompson', ...(num(form.floor) !== undefined ? { floor: num(form.floor) } : {}) },
    ...(num(form.traffic) !== undefined ? { traffic: num(form.traffic) } : {}),
    ...(num(form.publishSeconds) !== undefined ? { publishSeconds: num(form.publishSeconds) } : {}),
  };
}
