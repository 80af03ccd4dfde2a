#!/usr/bin/env node
// Runs the TypeScript sources through tsx in a checkout, the compiled CLI in an installed package.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'cli', 'main.ts');
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  // The repo's tsconfig maps 'keiko' to src/, so environment modules importing 'keiko' get the sources.
  register({ tsconfig: join(root, 'tsconfig.json') });
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(join(root, 'dist', 'src', 'cli', 'main.js')).href);
}
