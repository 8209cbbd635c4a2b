// esbuild bundles the imported CSS into console.css; for tsc an import of a .css file is only a side effect.
declare module '*.css';
