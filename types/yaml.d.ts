/** esbuild bundles YAML files as text (loader `.yaml=text`). */
declare module '*.yaml' {
  const text: string;
  export default text;
}
