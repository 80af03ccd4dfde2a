import type { Command } from 'commander';
import type { z } from 'zod';
import { formatSettingsHelp, parseSettingsArgv, resolveSettings, type SettingsSpec } from '../core/config/index.js';

/**
 * Registers a (sub)command whose settings come from `spec` through the one resolver: `--key value`
 * or `--key=value` flags, `--config <file>`, `-h/--help` listing every setting, `--print-config`.
 * Commander only dispatches; `action` gets the validated settings and the positional arguments.
 */
export function settingsCommand<S extends z.ZodObject>(
  parent: Command,
  name: string,
  spec: SettingsSpec<S>,
  description: string,
  action: (settings: z.infer<S>, positionals: string[]) => Promise<void>,
): Command {
  const command = parent
    .command(name)
    .description(description)
    .argument('[settings...]', `${spec.positional ? `${spec.positional}, then ` : ''}--key value / --key=value settings (--help lists them)`)
    .helpOption(false)
    .allowUnknownOption(true)
    .action(async (argv: string[]) => {
      if (parseSettingsArgv(spec, argv).help) {
        process.stdout.write(formatSettingsHelp(spec, { description }));
        return;
      }
      const { config, argv: parsed, notices } = resolveSettings(spec, argv);
      for (const notice of notices) process.stderr.write(`${notice}\n`);
      if (parsed.printConfig) {
        process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
        return;
      }
      await action(config, parsed.positionals);
    });
  command.exitOverride();
  return command;
}
