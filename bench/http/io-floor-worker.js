// bench:http's `ioFloor` case: the platform's part of a decision, without attune's code. It takes
// the same request as `/v1/decide` (reads and parses its JSON body, reads `request.cf`, the
// cookies and the user agent) and answers the bytes a real decision answered (env.ANSWER: its
// body, Set-Cookie headers and other headers, captured by the bench), so what `decide` costs
// beyond this case is attune's own work: routing, validation, the visitor, the decision, logging.
export default {
  async fetch(req, env) {
    if (req.method !== 'POST') return new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } });
    const body = JSON.parse(await req.text());
    const seen = [req.cf?.country, req.headers.get('cookie'), req.headers.get('user-agent'), body.slots?.length];
    const answer = JSON.parse(env.ANSWER);
    const headers = new Headers(answer.headers);
    for (const c of answer.cookies) headers.append('set-cookie', c);
    headers.set('x-floor-seen', String(seen.filter((x) => x !== undefined && x !== null).length));
    return new Response(answer.body, { status: 200, headers });
  },
};
