import type { Command } from 'commander';

/** Adds one subcommand (or a group of them) to the `flotilla` program. */
export type CommandRegistration = (program: Command) => void;
