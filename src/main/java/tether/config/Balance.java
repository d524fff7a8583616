package tether.config;

public enum Balance { ROUND_ROBIN, LEAST_CONN, RANDOM_TWO, IP_HASH }
