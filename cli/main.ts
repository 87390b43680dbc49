export async function main(argv: readonly string[]): Promise<number> {
  console.log('pce-export', argv.join(' '));
  return 0;
}
