// Reins service worker, build 1169455d8dfee891
// The service worker: an offline app shell and notification clicks. The
// build plugin (build/sw-plugin.ts) compiles this file to dist/sw.js and
// fills in the two placeholders declared below with the real hashed file
// list of that build and a version. Network-first for the HTML shell, cache-first for
// hashed assets. Never touches the /mqtt WebSocket or anything cross-origin.
// No push handling yet (closed-app notifications need the daemon's Web Push).

const sw = self;
const CACHE = `reins-shell-${"1169455d8dfee891"}`;
const scope = () => sw.registration.scope;
const abs = (path) => new URL(path, scope()).href;
const SHELL = () => abs("index.html");
sw.addEventListener("install", (event) => {
	event.waitUntil(caches.open(CACHE).then((c) => c.addAll(["assets/index-DIqjEWNH.js","assets/index-YJhN5R6G.css","index.html","apple-touch-icon.png","icon-192.png","icon-512.png","icon-maskable-512.png","manifest.webmanifest"].map(abs))).then(() => sw.skipWaiting()));
});
sw.addEventListener("activate", (event) => {
	event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k.startsWith("reins-shell-") && k !== CACHE).map((k) => caches.delete(k)))).then(() => sw.clients.claim()));
});
sw.addEventListener("fetch", (event) => {
	const req = event.request;
	if (req.method !== "GET") return;
	const url = new URL(req.url);
	if (url.origin !== sw.location.origin) return;
	if (!url.href.startsWith(scope())) return;
	if (url.pathname.endsWith("/mqtt") || req.headers.get("upgrade")) return;
	if (req.mode === "navigate") {
		event.respondWith(networkFirstShell(req));
		return;
	}
	if (url.pathname.includes("/assets/") || ["assets/index-DIqjEWNH.js","assets/index-YJhN5R6G.css","index.html","apple-touch-icon.png","icon-192.png","icon-512.png","icon-maskable-512.png","manifest.webmanifest"].some((p) => abs(p) === url.href)) {
		event.respondWith(cacheFirst(req));
	}
});
/** The HTML shell: fresh from the network when it answers, else the cached copy. */
async function networkFirstShell(req) {
	const cache = await caches.open(CACHE);
	try {
		const res = await fetch(req);
		if (res.ok && res.type === "basic") await cache.put(SHELL(), res.clone());
		return res;
	} catch (e) {
		const cached = await cache.match(SHELL()) ?? await cache.match(abs("./"));
		if (cached) return cached;
		throw e;
	}
}
/** Hashed, immutable assets: the cache first, the network once. */
async function cacheFirst(req) {
	const cache = await caches.open(CACHE);
	const hit = await cache.match(req, { ignoreSearch: true });
	if (hit) return hit;
	const res = await fetch(req);
	if (res.ok && res.type === "basic") await cache.put(req, res.clone());
	return res;
}
/** A tap on an approval notification: focus the app and point it at the request. */
sw.addEventListener("notificationclick", (event) => {
	event.notification.close();
	const data = event.notification.data;
	const requestId = data?.requestId ?? event.notification.tag;
	event.waitUntil((async () => {
		const all = await sw.clients.matchAll({
			type: "window",
			includeUncontrolled: true
		});
		const mine = all.filter((c) => c.url.startsWith(scope()));
		const client = mine.find((c) => c.focused) ?? mine[0];
		if (client) {
			await client.focus().catch(() => client);
			client.postMessage({
				type: "reins-open-approval",
				requestId
			});
			return;
		}
		await sw.clients.openWindow(scope()).catch(() => null);
	})());
});
