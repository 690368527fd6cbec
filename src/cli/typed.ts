/**
 * What the user typed for a flag. yargs turns a `type: 'number'` value that is not a number
 * into NaN before any handler sees it, so an error that quoted the parsed value would say
 * "got NaN" for `--seed abc`; quoting the typed text names the actual mistake.
 */
export function typedText(flag: string, parsed: unknown, argv: readonly string[] = process.argv): string {
  const name = flag.replace(/^-+/, '');
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === `--${name}` && i + 1 < argv.length) found = argv[i + 1];
    else if (a.startsWith(`--${name}=`)) found = a.slice(name.length + 3);
  }
  return found ?? String(parsed);
}
