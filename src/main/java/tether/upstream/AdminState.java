package tether.upstream;

/** What the operator said of a server: ACTIVE; DRAIN (pinned users only, no new ones); DISABLED (nobody). */
public enum AdminState { ACTIVE, DRAIN, DISABLED }
