import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

// The built app is served from the site bucket; /api and /rest reach the APIs on the same
// origin (stratus's site port routes them, as CloudFront behaviours do on AWS).
export default defineConfig({
  plugins: [vue()],
  build: { outDir: "dist", emptyOutDir: true },
});
