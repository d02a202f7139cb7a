// A handler module that registers no task.
export const nothing = 1;
