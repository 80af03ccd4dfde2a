import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/index.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Folder of the page's sources (index.html, vite.config.ts, dist/). From the TypeScript sources it
 * is beside this file; from the compiled package (dist/src/dashboard) it is the package's
 * src/dashboard/web, which holds only the built page (dist/).
 */
export const WEB_SOURCE_DIR =
  [join(here, 'web'), join(here, '..', '..', '..', 'src', 'dashboard', 'web')].find((dir) => existsSync(join(dir, 'index.html')) || existsSync(join(dir, 'dist', 'index.html'))) ?? join(here, 'web');

/** Where `npm run build:web` writes the built page. */
export const WEB_DIST_DIR = join(WEB_SOURCE_DIR, 'dist');

/** True when the built page (index.html, app.js, app.css) is present. */
export function webIsBuilt(options: { distDir?: string } = {}): boolean {
  const dist = options.distDir ?? WEB_DIST_DIR;
  return ['index.html', 'app.js', 'app.css'].every((f) => existsSync(join(dist, f)));
}

/**
 * Returns the built page folder, building it with Vite first when it is missing (a checkout where
 * `npm run build:web` has not run). Throws `ConfigError` when it cannot be built.
 */
export async function ensureWebBuilt(options: { distDir?: string; log?: (line: string) => void } = {}): Promise<string> {
  const dist = options.distDir ?? WEB_DIST_DIR;
  if (webIsBuilt({ distDir: dist })) return dist;
  const config = join(WEB_SOURCE_DIR, 'vite.config.ts');
  if (!existsSync(config)) throw new ConfigError(`the dashboard page is not built and its sources are missing (${config})`);
  options.log?.('building the dashboard page (first use)…');
  try {
    const vite = await import('vite');
    await vite.build({ configFile: config, logLevel: 'warn' });
  } catch (error) {
    throw new ConfigError(`could not build the dashboard page; run 'npm run build:web' (${(error as Error).message})`, { cause: error });
  }
  if (!webIsBuilt({ distDir: dist })) throw new ConfigError("the dashboard build did not produce app.js/app.css; run 'npm run build:web'");
  return dist;
}
