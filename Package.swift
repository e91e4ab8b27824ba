// swift-tools-version:6.0
import PackageDescription

// `make release`/`make deb` set ECMPD_VERSION and generate
// Sources/ECMPCore/BuildVersion.swift (ECMPCore/Version.swift says why).
let buildVersion: [SwiftSetting] = Context.environment["ECMPD_VERSION"] == nil ? [] : [.define("ECMPD_BUILD_VERSION")]

let package = Package(
    name: "ecmpd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ecmpd", targets: ["ecmpd"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // Only the module map and a header: libnl's macros and variadics are
        // reached from Swift through tiny inline helpers, no logic lives in C.
        .systemLibrary(
            name: "CNetlink",
            pkgConfig: "libnl-genl-3.0 libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-genl-3-dev", "libnl-route-3-dev"])]
        ),
        // glibc headers Swift's Glibc module leaves out (epoll, eventfd,
        // malloc.h). Headers only.
        .systemLibrary(name: "CGlibcExtras"),
        // Values and pure decisions: configuration, network model, keepalived
        // import, rendering. No C, no file I/O, no sockets.
        .target(
            name: "ECMPCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: buildVersion
        ),
        // The kernel edge: rtnetlink (links, addresses, routes) and IPVS over
        // generic netlink. Every pointer and callback stays in this module.
        .target(
            name: "ECMPNetlink",
            dependencies: ["CNetlink", "ECMPCore"]
        ),
        // The routing-daemon edge: validate with FRR's parser, install
        // atomically, back up, reload.
        .target(
            name: "ECMPRouting",
            dependencies: [
                "ECMPCore", "CGlibcExtras",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Managed mode's checks: TCP on an epoll reactor, HTTP(S) on one NIO event loop, exec on a small pool.
        .target(
            name: "ECMPHealth",
            dependencies: [
                "ECMPCore", "ECMPRouting", "CGlibcExtras",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The event log in SQLite: never on the path that keeps traffic flowing.
        .target(
            name: "ECMPStore",
            dependencies: [
                "ECMPCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // `ecmpd run`: the reconcile loop, network watch, signals, and the
        // status and metrics endpoint, as service-lifecycle services.
        .target(
            name: "ECMPDaemon",
            dependencies: [
                "ECMPCore", "ECMPNetlink", "ECMPRouting", "ECMPStore", "ECMPHealth", "CGlibcExtras",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ecmpd",
            dependencies: [
                "ECMPCore", "ECMPNetlink", "ECMPRouting", "ECMPStore", "ECMPDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ECMPCoreTests",
            dependencies: ["ECMPCore"],
            exclude: ["Fixtures"]
        ),
        // rtnetlink replies parsed from messages built as the kernel sends them.
        .testTarget(
            name: "ECMPNetlinkTests",
            dependencies: ["ECMPNetlink", "ECMPCore", "CNetlink"]
        ),
        .testTarget(
            name: "ECMPStoreTests",
            dependencies: ["ECMPStore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The status endpoint on real loopback sockets (no in-process test
        // client: HummingbirdTesting would add ~10 minutes to a clean build).
        .testTarget(
            name: "ECMPDaemonTests",
            dependencies: [
                "ECMPDaemon", "ECMPCore", "ECMPHealth",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ECMPHealthTests",
            dependencies: [
                "ECMPHealth", "ECMPRouting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ECMPRoutingTests",
            dependencies: ["ECMPRouting"]
        ),
        // Namespaces, veth links and FRR daemons for the integration tiers.
        .target(
            name: "ECMPTestSupport",
            dependencies: ["ECMPRouting"],
            path: "Tests/TestSupport"
        ),
        // Root + iproute2 + FRR: run by `make test-netns`, never by plain unit runs.
        .testTarget(
            name: "NamespaceTests",
            dependencies: [
                "ECMPCore", "ECMPNetlink", "ECMPRouting", "ECMPDaemon", "ECMPTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Debian's kernel with IPVS under qemu (Tests/kernel/run-in-vm.sh):
        // run by `make test-kernel` inside the VM, never by plain unit runs.
        .testTarget(
            name: "KernelTests",
            dependencies: ["ECMPCore", "ECMPNetlink", "ECMPTestSupport"]
        ),
    ]
)

// libFuzzer targets for the config, keepalived and DNS reply parsers (Tests/Fuzz), only with
// ECMPD_FUZZ=1: they link only against libFuzzer (`make fuzz` builds them
// into .build-fuzz), so a plain `swift build` must not see them.
if Context.environment["ECMPD_FUZZ"] == "1" {
    package.targets += [
        .systemLibrary(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Tests/Fuzz/FuzzSupport"),
        .executableTarget(
            name: "ConfigFuzzer", dependencies: ["ECMPCore", "FuzzSupport"], path: "Tests/Fuzz/ConfigFuzzer"),
        .executableTarget(
            name: "KeepalivedFuzzer", dependencies: ["ECMPCore", "FuzzSupport"], path: "Tests/Fuzz/KeepalivedFuzzer"),
        .executableTarget(
            name: "DNSReplyFuzzer", dependencies: ["ECMPCore", "FuzzSupport"], path: "Tests/Fuzz/DNSReplyFuzzer"),
    ]
}
