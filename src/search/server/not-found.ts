// Answers for requests no route takes: 405 with an Allow header when the path exists under other methods,
// else 404; both as JSON, quoting at most an excerpt of the path. The routes are collected as they are
// registered (plugins' routes included), so the answer follows the app as it is.
import type { FastifyInstance } from 'fastify';
import { excerpt } from '../../util/excerpt.js';

interface KnownRoute {
  pattern: RegExp;
  methods: Set<string>;
}

/** A route's URL as a regular expression over request paths (":param" is one segment, "*" anything). */
function routePattern(url: string): RegExp {
  const body = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** Call before the routes are registered. */
export function registerNotFound(app: FastifyInstance): void {
  const routes = new Map<string, KnownRoute>();
  app.addHook('onRoute', (r) => {
    const known = routes.get(r.url) ?? { pattern: routePattern(r.url), methods: new Set<string>() };
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) known.methods.add(m);
    routes.set(r.url, known);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = new Set<string>();
    for (const r of routes.values()) if (r.pattern.test(path)) for (const m of r.methods) allowed.add(m);
    if (allowed.size > 0 && !allowed.has(req.method)) {
      const allow = [...allowed].sort().join(', ');
      return reply
        .code(405)
        .header('allow', allow)
        .send({
          error: `method ${excerpt(req.method, 20)} is not allowed on ${excerpt(path)}: use ${allow}`,
          statusCode: 405,
        });
    }
    return reply
      .code(404)
      .send({ error: `no such route: ${excerpt(req.method, 20)} ${excerpt(path)}`, statusCode: 404 });
  });
}
