package tether.config;

public record LimitsConfig(int maxHeaderBytes, long maxBodyBytes, int maxUriBytes) {}
