package tether.config;

public record ListenConfig(String address, int port) {}
