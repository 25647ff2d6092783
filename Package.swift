// swift-tools-version:6.1
import PackageDescription

/// Targets are the modules of docs/architecture.md ("Modules"): each concern is its own module so that the compiler
/// enforces the one-way dependency direction CCurl → CurlHTTP → WeChat → GatewayCore → gateway, with the
/// small shared modules (JSON, SmallHTTP) below them and the simulator beside the serving path.
let package = Package(
    name: "wechat-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gateway", targets: ["gateway"]),
        // For the libFuzzer targets in Fuzz/, a package of its own that depends on this one by path (a product is
        // the only way in); nothing else links it.
        .library(name: "GatewayFuzzingSupport", targets: ["JSON", "Tokens", "WeChat", "GatewayCore", "Engine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // OTLP/HTTP span export only: the default traits also build the gRPC exporter, which tracing does not use.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "CurlHTTP",
            dependencies: [
                "CCurl",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // JSON reading and writing, hex, base64url and random identifiers: one small module every other uses.
        .target(name: "JSON"),
        .target(
            name: "SmallHTTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "WeChat",
            dependencies: [
                "CurlHTTP",
                "JSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The WeChat simulator (docs/architecture.md, "Beside the serving path"): used by `demo`, `mock-wechat` and
        // tests, never linked into the serving path.
        .target(
            name: "WeChatSimulator",
            dependencies: [
                "WeChat",
                "SmallHTTP",
                "JSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Tokens",
            dependencies: [
                "JSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "SessionStore",
            dependencies: [
                "CSQLite",
                "JSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "GatewayCore",
            dependencies: [
                "CurlHTTP",
                "WeChat",
                "Tokens",
                "SessionStore",
                "SmallHTTP",
                "JSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // SHA-1 of a WebSocket handshake's accept value (WebSocketHandshake); token crypto lives in Tokens.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // [tracing] export (Observability/Tracing): spans are built only when an endpoint is configured.
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // llhttp, vendored for the engine with its own symbol prefix (gw_llhttp_), beside swift-nio's copy (c_nio_),
        // which NIOHTTP1 keeps using; see Sources/CLLHTTP/README.md.
        .target(name: "CLLHTTP", exclude: ["LICENSE", "README.md"]),
        // epoll and accept4 for the engine, which Swift's Glibc module does not export.
        .target(name: "CEpoll"),
        // The system's OpenSSL for the engine's TLS listener (issue 23); swift-nio-ssl's BoringSSL has prefixed
        // symbols, so both link into one binary (Sources/COpenSSL/shim.h).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // The engine's measuring slice (issue 23): one epoll worker owning client and libcurl sockets. Depends on
        // GatewayCore for the configuration, routes, token check and header rules it reuses.
        .target(
            name: "Engine",
            dependencies: [
                "CCurl",
                "CEpoll",
                "CLLHTTP",
                "COpenSSL",
                "GatewayCore",
                "Tokens",
                "SmallHTTP",
                // `JSONByteCursor`: the client's head is written through it into space reserved once.
                "JSON",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // The TLS context's reload report goes to the service's logger.
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The command line: GatewayCore and the Engine serve; the simulator and SmallHTTP (the demo's echo upstream)
        // are for `mock-wechat` and `demo`.
        .executableTarget(
            name: "gateway",
            dependencies: [
                "GatewayCore",
                // The public listener's workers (`serve`, `demo`), handed to GatewayService as its PublicEngine.
                "Engine",
                "WeChatSimulator",
                "SmallHTTP",
                // The demo's walk-through calls the gateway it started as a client would.
                "CurlHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "CurlHTTPTests", dependencies: ["CurlHTTP"], exclude: ["Servers"]),
        .testTarget(name: "WeChatTests", dependencies: ["WeChat", "WeChatSimulator", "JSON"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "WeChatSimulatorTests", dependencies: ["WeChatSimulator", "WeChat", "JSON"]),
        .testTarget(name: "SmallHTTPTests", dependencies: ["SmallHTTP"]),
        // jwt-kit only checks here that the tokens we sign are read the same by a widely used library.
        .testTarget(
            name: "TokensTests", dependencies: ["Tokens", "JSON", .product(name: "JWTKit", package: "jwt-kit")]),
        .testTarget(
            name: "SessionStoreTests",
            dependencies: ["SessionStore", "JSON", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        // The process SQLiteSessionStoreCrashTests kills with SIGKILL after it has committed; an executable of its own
        // so that the test list holds only real tests. Built beside the test bundle, used by nothing else.
        .executableTarget(
            name: "SessionStoreCrashChild", dependencies: ["SessionStore"], path: "Tests/SessionStoreCrashChild"),
        .testTarget(name: "GatewayCoreTests", dependencies: ["GatewayCore", "SmallHTTP", "JSON"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "GatewayCore", "COpenSSL"]),
    ]
)

// Release builds of the modules on the request path offer their function bodies to the modules that call them
// (full cross-module optimization), so the engine's calls into GatewayCore's header rules, the access log line,
// the token cache and JSON are inlined and specialized rather than called through generic entry points: about 9%
// less CPU per proxied request in the engine's profile (issue 23). An unsafe flag, which SwiftPM accepts in the
// root package and in path dependencies (Fuzz/); debug builds are unchanged.
for target in package.targets
where ["Engine", "GatewayCore", "Tokens", "JSON", "SmallHTTP", "CurlHTTP"].contains(target.name) {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]
}
// The engine's worker is one thread owning its objects, and its hot path reads and writes their stored properties
// many times per request: the run-time exclusivity checks on them (swift_beginAccess) were about 1% of its CPU.
// Release builds of Engine only leave them out; the compile-time checks stay, and debug builds, which every unit
// and integration test runs, keep the run-time ones.
if let engine = package.targets.first(where: { $0.name == "Engine" }) {
    let unchecked = SwiftSetting.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
    engine.swiftSettings = (engine.swiftSettings ?? []) + [unchecked]
}
