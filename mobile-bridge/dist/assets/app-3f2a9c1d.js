// Placeholder bundle: the real app is built from mobile-bridge/src.
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js");
