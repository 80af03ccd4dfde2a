// The dashboard: `keiko view`'s HTTP server + JSON API, and static HTML reports of a run.
export { startDashboard, type DashboardServer } from './server.js';
export { buildReport, writeReport, collectReportData, type ReportOptions } from './report.js';
export { ensureWebBuilt, webIsBuilt, WEB_DIST_DIR, WEB_SOURCE_DIR } from './web-assets.js';
export * from './payloads.js';
