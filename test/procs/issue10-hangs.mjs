// A handler module whose top-level await never settles.
await new Promise(() => {});
