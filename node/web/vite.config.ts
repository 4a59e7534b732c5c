import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vite";

// `npm run build` writes `dist/`, which the daemon embeds (node/src/api/web.rs). File names
// carry a content hash, and the build is reproducible from these sources and
// package-lock.json (CI rebuilds it and compares).
//
// `npm run dev` serves the sources with live reload and forwards `/v1` to a running daemon:
// PAPERPLANE_HOME names its home (the API address and token are read from there, the token
// at each request, since the daemon writes a new one at every start).
const home = process.env.PAPERPLANE_HOME ?? "";
const read = (file: string) => readFileSync(join(home, file), "utf8").trim();

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: home
    ? {
        proxy: {
          "/v1": {
            target: `http://${read("api.addr")}`,
            changeOrigin: true,
            configure: (proxy) => {
              proxy.on("proxyReq", (req) => {
                req.removeHeader("origin");
                req.removeHeader("cookie");
                req.setHeader("authorization", `Bearer ${read("api.token")}`);
              });
            },
          },
        },
      }
    : {},
});
