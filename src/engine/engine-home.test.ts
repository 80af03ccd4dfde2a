import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKOUT_VENV, chooseEnginePython, ENGINE_DIR, engineProcessEnv, PACKAGE_ROOT, userEngineVenv, venvPython } from './engine-home.js';
import { engineRequirements } from './engine-setup.js';

const dir = mkdtempSync(join(tmpdir(), 'keiko-engine-home-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('where the engine lives', () => {
  it('finds the package root and the engine sources beside it', () => {
    expect(join(PACKAGE_ROOT, 'package.json')).toBe(join(PACKAGE_ROOT, 'package.json'));
    expect(ENGINE_DIR).toBe(join(PACKAGE_ROOT, 'engine'));
    expect(engineRequirements()).toEqual(expect.arrayContaining([expect.stringMatching(/^torch/), expect.stringMatching(/^transformers/)]));
  });

  it('puts the per-user venv under $KEIKO_ENGINE_VENV, else $XDG_DATA_HOME, else ~/.local/share', () => {
    expect(userEngineVenv({ KEIKO_ENGINE_VENV: '/v' })).toBe('/v');
    expect(userEngineVenv({ XDG_DATA_HOME: '/data', HOME: '/home/u' })).toBe('/data/keiko/engine-venv');
    expect(userEngineVenv({ HOME: '/home/u' })).toBe('/home/u/.local/share/keiko/engine-venv');
  });

  it('chooses the Python in order: explicit, $KEIKO_ENGINE_PYTHON, $KEIKO_ENGINE_VENV, the clone venv, the user venv', () => {
    const venv = join(dir, 'venv');
    mkdirSync(join(venv, 'bin'), { recursive: true });
    writeFileSync(venvPython(venv), '');
    expect(chooseEnginePython('/x/python', { KEIKO_ENGINE_PYTHON: '/y' })).toEqual({ python: '/x/python', from: 'explicit', exists: false });
    expect(chooseEnginePython(undefined, { KEIKO_ENGINE_PYTHON: '/y', KEIKO_ENGINE_VENV: venv }).from).toBe('KEIKO_ENGINE_PYTHON');
    expect(chooseEnginePython(undefined, { KEIKO_ENGINE_VENV: venv })).toEqual({ python: venvPython(venv), from: 'KEIKO_ENGINE_VENV', exists: true });
    const fallback = chooseEnginePython(undefined, { HOME: join(dir, 'home') });
    // a clone with engine/.venv uses it; otherwise the per-user venv (which does not exist here)
    expect(fallback).toEqual(
      fallback.from === 'checkout' ? { python: venvPython(CHECKOUT_VENV), from: 'checkout', exists: true } : { python: venvPython(join(dir, 'home', '.local', 'share', 'keiko', 'engine-venv')), from: 'user', exists: false },
    );
  });

  it("runs engine processes with keiko's own engine sources first on PYTHONPATH", () => {
    expect(engineProcessEnv({ A: '1' })).toEqual({ A: '1', PYTHONPATH: ENGINE_DIR });
    expect(engineProcessEnv({ PYTHONPATH: '/other' }).PYTHONPATH).toBe(`${ENGINE_DIR}:/other`);
  });
});
