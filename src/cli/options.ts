// A daemon's option schema (src/util/options.ts) as commander options: each option's flag,
// placeholder, description and default text become one `--flag <value>` with its --help line;
// its other spellings become hidden options of their own. After parsing, `givenOptions` says
// what the command line gave per option (undefined when absent), for `parseOptions`.
import { type Command, Option } from 'commander';
import { OptionError, type OptionSchema } from '../util/options.ts';

const spelling = (flag: string, placeholder: string | null): string =>
  placeholder === null ? `--${flag}` : `--${flag} ${placeholder}`;

/** Commander's property name of a long flag (it camel-cases dashes, and keeps underscores). */
const attributeOf = (flag: string): string => new Option(`--${flag}`).attributeName();

export function addSchemaOptions(command: Command, schema: OptionSchema): Command {
  for (const spec of Object.values(schema)) {
    const option = new Option(spelling(spec.flag, spec.placeholder), spec.description);
    if (spec.defaultText !== null) option.default(spec.defaultText);
    if (spec.hidden === true) option.hideHelp();
    // A required option with other spellings is checked by the schema, which knows them all.
    if (spec.required && spec.aliases.length === 0) option.makeOptionMandatory();
    command.addOption(option);
    for (const alias of spec.aliases) command.addOption(new Option(spelling(alias, spec.placeholder)).hideHelp());
  }
  return command;
}

/**
 * The text each option was given on the command line, under the schema's keys: a default that
 * commander filled in counts as absent (the schema applies its own), and an option given under
 * two spellings is an error naming both.
 */
export function givenOptions(command: Command, schema: OptionSchema): Record<string, string | boolean | undefined> {
  const values = command.opts<Record<string, string | boolean | undefined>>();
  const given: Record<string, string | boolean | undefined> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const spellings = [spec.flag, ...spec.aliases].filter((flag) => {
      const attribute = attributeOf(flag);
      return values[attribute] !== undefined && command.getOptionValueSource(attribute) !== 'default';
    });
    if (spellings.length > 1) {
      throw new OptionError(spec.flag, `--${spellings.join(' and --')} are the same option: give it once`);
    }
    const value = spellings.length === 0 ? undefined : values[attributeOf(spellings[0]!)];
    // Commander hands a given `--no-x` over as false; to the schema it is a switch that was given.
    given[key] = value === false && spec.flag.startsWith('no-') ? true : value;
  }
  return given;
}
