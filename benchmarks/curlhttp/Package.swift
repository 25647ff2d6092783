// swift-tools-version:6.1
// The Swift side of the CurlHTTP benchmark, kept out of the main package so that a release build of it needs only
// NIO's core and the CurlHTTP sources (symlinked from ../../Sources). Built and run by run.sh.
import PackageDescription

let package = Package(
    name: "curlhttp-bench",
    dependencies: [.package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2")],
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl"),
        .target(
            name: "CurlHTTP",
            dependencies: [
                "CCurl",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "curlhttp-bench", dependencies: ["CurlHTTP"]),
    ]
)
