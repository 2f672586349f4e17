// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "warden",
    products: [
        .executable(name: "warden", targets: ["warden"]),
        .executable(name: "warden-fuzz", targets: ["warden-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "SMTPCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "NIOSMTP",
            dependencies: ["SMTPCore", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "SMTPFuzzing",
            dependencies: ["SMTPCore", "NIOSMTP", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .executableTarget(
            name: "warden-fuzz",
            dependencies: ["SMTPFuzzing"]
        ),
        .executableTarget(name: "warden-bench", dependencies: ["WardenPolicy"]),
        .systemLibrary(name: "CCAres", pkgConfig: "libcares", providers: [.apt(["libc-ares-dev"])]),
        .systemLibrary(name: "CMaxMindDB", pkgConfig: "libmaxminddb", providers: [.apt(["libmaxminddb-dev"])]),
        .target(
            name: "DNSResolver",
            dependencies: ["CCAres"]
        ),
        .target(
            name: "MaxMindDB",
            dependencies: ["CMaxMindDB"]
        ),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        .target(
            name: "PCRE2",
            dependencies: ["CPCRE2"]
        ),
        .target(
            name: "RedisClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "WardenPolicy",
            dependencies: ["SMTPCore", "RedisClient", "PCRE2"]
        ),
        .target(
            name: "WardenProxy",
            dependencies: [
                "SMTPCore", "NIOSMTP", "WardenPolicy", "DNSResolver", "MaxMindDB", "RedisClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .executableTarget(
            name: "warden",
            dependencies: [
                "WardenProxy", "WardenPolicy",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "SMTPCoreTests",
            dependencies: ["SMTPCore", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "NIOSMTPTests",
            dependencies: [
                "NIOSMTP", "SMTPCore", "SMTPFuzzing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            resources: [.copy("FuzzCorpus")]
        ),
        .testTarget(
            name: "DNSResolverTests",
            dependencies: ["DNSResolver"]
        ),
        .testTarget(
            name: "MaxMindDBTests",
            dependencies: ["MaxMindDB"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "PCRE2Tests",
            dependencies: ["PCRE2"]
        ),
        .target(
            name: "RedisTestServer",
            dependencies: ["RedisClient"],
            path: "Tests/RedisTestServer"
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: ["RedisClient", "RedisTestServer", .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .testTarget(
            name: "WardenPolicyTests",
            dependencies: ["WardenPolicy", "SMTPCore", "RedisClient", "RedisTestServer"]
        ),
        .testTarget(
            name: "WardenProxyTests",
            dependencies: [
                "WardenProxy", "NIOSMTP", "SMTPCore", "WardenPolicy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
