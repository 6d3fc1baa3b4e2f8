/** Which KFP API a server speaks, and whether it is multi-user, from its healthz. */
import { KfpApiError } from '../errors.js';
import type { KfpApi } from '../events.js';
import type { KfpHttp } from './kfp-http.js';

/** Which API the server speaks: v2beta1 when its healthz answers, else v1beta1; `forced` is only checked. */
export async function detectApi(http: KfpHttp, forced: KfpApi | undefined): Promise<{ api: KfpApi; multiUser: boolean; server?: string }> {
  for (const api of forced ? [forced] : (['v2beta1', 'v1beta1'] as const)) {
    const req = { method: 'GET' as const, path: `/apis/${api}/healthz`, what: `GET /apis/${api}/healthz` };
    const answer = await http.send(req);
    if (answer.status === 404 && !forced && api === 'v2beta1') continue;
    if (answer.status < 200 || answer.status >= 300) {
      // The same error a call would give (401, 403, KFP's message), or that this API is not there.
      if (answer.status === 404) {
        throw new KfpApiError(`KFP: ${req.what}: 404: no ${api} API here${forced ? '' : ' (neither v2beta1 nor v1beta1)'}`, {
          status: 404,
          hint: forced
            ? `Leave out --api to use the API the server speaks${api === 'v2beta1' ? ' (a KFP 1.x server speaks v1beta1: --api v1)' : ''}.`
            : 'Check that --host names the KFP API server or UI (for a path-prefixed install, include the prefix, e.g. https://host/pipeline).',
        });
      }
      throw http.statusError(req, answer);
    }
    const body = answer.body;
    if (!body || typeof body !== 'object') {
      throw new KfpApiError(`KFP: ${req.what} answered ${answer.status} with something that is not KFP's JSON (a login page?)`, {
        status: answer.status,
        hint: 'Check --host, and the credentials a proxy in front of KFP wants (KF_PIPELINES_COOKIE, KF_PIPELINES_TOKEN).',
      });
    }
    const b = body as Record<string, unknown>;
    const tag = typeof b.tag_name === 'string' && b.tag_name !== 'unknown' ? b.tag_name : undefined;
    return { api, multiUser: b.multi_user === true, ...(tag ? { server: tag } : {}) };
  }
  throw new Error('unreachable: the v1beta1 healthz answers or throws');
}
