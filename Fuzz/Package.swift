// swift-tools-version:6.1
import PackageDescription

/// libFuzzer targets for the gateway's parsers and decision code (issue 15). Built by `Fuzz/run.sh` (`make fuzz`)
/// with `-sanitize=fuzzer,address -parse-as-library -enable-testing`: each target's entry point is
/// `LLVMFuzzerTestOneInput`, libFuzzer brings `main`, and `@testable import` reaches the internal parsers.
/// A separate package so that `swift build` of the gateway never needs those flags.
let fuzzTargets = [
    "FuzzJSONReader", "FuzzBase64URL", "FuzzTokenVerifier", "FuzzRequestHead", "FuzzConfigLoader",
    "FuzzWeChatAnswer", "FuzzEncryptedData", "FuzzEngineHead",
]

let package = Package(
    name: "gateway-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "wechat-gateway", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [.target(name: "FuzzDriver")]
        + fuzzTargets.map { name in
            .executableTarget(
                name: name,
                dependencies: [
                    "FuzzDriver",
                    .product(name: "GatewayFuzzingSupport", package: "wechat-gateway"),
                    .product(name: "NIOHTTP1", package: "swift-nio"),
                ])
        }
)
