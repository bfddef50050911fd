import { defineConfig } from 'vitest/config';

// The built UI is served by the Pressbox server (src/pressbox/web) from its static directory.
// Routing is hash-based, so every asset URL is absolute from the site root.
const devServer = 'http://127.0.0.1:8765';

export default defineConfig({
  base: '/',
  build: {
    outDir: '../src/pressbox/web/static',
    emptyOutDir: true,
  },
  server: {
    // `npm run dev` against a locally running `pressbox serve --port 8765`.
    proxy: {
      '/api': devServer,
      '/ws': { target: devServer.replace(/^http/, 'ws'), ws: true },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
