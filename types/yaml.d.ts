/**
 * YAML imports: text (esbuild's `.yaml=text` loader, as sam build bundles them), or for the drbot
 * config under `npm run build`, the parsed data.
 */
declare module '*.yaml' {
  const content: unknown;
  export default content;
}
