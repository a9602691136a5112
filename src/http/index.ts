/** The HTTP boot and API server: public API. */
export { createHttpApp, type HttpApp, type HttpServerOptions } from './app.ts';
export { startHttpServer, type HttpServer } from './server.ts';
export { loadOrCreateAdminToken, readAdminToken, ADMIN_TOKEN_FILE } from './admin-token.ts';
export { HttpError } from './http-error.ts';
export { requireAdmin, requireMachine, bearerToken } from './auth.ts';
export type { MachineView } from './machine-view.ts';
export { ApiClient, type ApiClientOptions, type MachineEvent } from './api-client.ts';
