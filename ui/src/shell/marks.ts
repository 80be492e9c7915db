// Performance marks the window sets at moments its benchmark times (`cargo xtask bench`).

/** The inbox can be used: its tabs are counted and its first list is drawn. */
export const INBOX_READY = 'tsunagi:inbox-ready'
