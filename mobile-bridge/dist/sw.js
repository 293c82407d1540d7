// Placeholder service worker.
self.addEventListener("fetch", () => {});
