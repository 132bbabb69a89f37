// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "PlanWatch",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "planwatchd", targets: ["planwatchd"]),
        .executable(name: "planwatch", targets: ["planwatch"]),
        .library(name: "HandlerKit", targets: ["HandlerKit"]),
        .library(name: "HandlerKitTesting", targets: ["HandlerKitTesting"]),
        .library(name: "ZeroMQ", targets: ["ZeroMQ"]),
        .library(name: "FinancePlugin", type: .dynamic, targets: ["FinancePlugin"]),
        .library(name: "DigitalInfrastructurePlugin", type: .dynamic, targets: ["DigitalInfrastructurePlugin"]),
        // A handler that traps or throws on chosen events: the reliability tests load it.
        .library(name: "PoisonTestPlugin", type: .dynamic, targets: ["PoisonTestPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        // Microbenchmarks (Sources/planwatch-microbench). ordo-one/package-benchmark, the usual
        // choice, needs ordo-one/swift-runtime-interposer on Linux with Swift 6.3, which this
        // project's package mirror does not have.
        .package(url: "https://github.com/google/swift-benchmark", from: "0.1.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"], swiftSettings: strict),
        // The contract's types: events and payloads, alerts, indicator updates, regions, dates.
        .target(name: "PlanWatchModel", swiftSettings: strict),
        // What the host does with bytes: the JSON parser, the event decoder, ROUTER envelopes.
        .target(name: "PlanWatchWire", dependencies: ["PlanWatchModel"], swiftSettings: strict),
        // The SDK a handler author imports: the Handler protocol, books, deadlines, the model.
        .target(
            name: "HandlerKit",
            dependencies: ["PlanWatchModel", .product(name: "HashTreeCollections", package: "swift-collections")],
            swiftSettings: strict),
        // The C ABI a handler built as a dynamic plugin exports, and the daemon loads.
        .target(name: "HandlerPluginABI", dependencies: ["HandlerKit", "PlanWatchWire"], swiftSettings: strict),
        .target(name: "HandlerKitTesting", dependencies: ["HandlerKit", "PlanWatchWire"], swiftSettings: strict),
        .target(
            name: "PlanFiles",
            dependencies: ["PlanWatchModel", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        .target(name: "PlanWatchSimulator", dependencies: ["PlanWatchModel"], swiftSettings: strict),
        .target(
            name: "CampusSafety", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/CampusSafety", swiftSettings: strict),
        .target(
            name: "Enrolment", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/Enrolment", swiftSettings: strict),
        .target(
            name: "CapitalProjects", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/CapitalProjects", swiftSettings: strict),
        .target(
            name: "Teachers", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/Teachers", swiftSettings: strict),
        .target(
            name: "Finance", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/Finance", swiftSettings: strict),
        .target(
            name: "FinancePlugin", dependencies: ["Finance", "HandlerKit", "HandlerPluginABI"],
            path: "Sources/HandlerPlugins/FinancePlugin", swiftSettings: strict),
        .target(
            name: "DigitalInfrastructure", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/DigitalInfrastructure", swiftSettings: strict),
        .target(
            name: "DigitalInfrastructurePlugin", dependencies: ["DigitalInfrastructure", "HandlerKit", "HandlerPluginABI"],
            path: "Sources/HandlerPlugins/DigitalInfrastructurePlugin", swiftSettings: strict),
        .target(
            name: "Inspection", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/Inspection", swiftSettings: strict),
        .target(
            name: "SafetyPrevention", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/SafetyPrevention", swiftSettings: strict),
        .target(
            name: "OffCampusTraining", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/OffCampusTraining", swiftSettings: strict),
        .target(
            name: "SpecialEducation", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/SpecialEducation", swiftSettings: strict),
        .target(
            name: "StudentAid", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/StudentAid", swiftSettings: strict),
        .target(
            name: "IngestMonitor", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/IngestMonitor", swiftSettings: strict),
        .target(
            name: "ProvinceRollup", dependencies: ["HandlerKit"],
            path: "Sources/Handlers/ProvinceRollup", swiftSettings: strict),
        .target(
            name: "HandlerCatalog",
            dependencies: [
                "HandlerKit", "CampusSafety", "Enrolment", "CapitalProjects", "IngestMonitor", "Teachers", "ProvinceRollup",
                "Inspection", "SafetyPrevention", "OffCampusTraining", "SpecialEducation", "StudentAid",
                // new-handler: catalog dependencies
            ],
            swiftSettings: strict),
        .target(
            name: "PlanWatchRuntime",
            dependencies: [
                "ZeroMQ", "PlanWatchModel", "PlanWatchWire", "HandlerKit", "HandlerPluginABI",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict),
        .target(
            name: "PlanWatchConfig",
            dependencies: [
                "PlanWatchRuntime", "PlanFiles", "HandlerKit", "ZeroMQ", .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "planwatchd",
            dependencies: [
                "PlanWatchRuntime", "PlanWatchConfig", "HandlerCatalog", "HandlerPluginABI", "PlanFiles", "PlanWatchModel", "PlanWatchWire", "ZeroMQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ],
            resources: [.copy("Schemas"), .copy("Console")],
            swiftSettings: strict),
        .executableTarget(
            name: "planwatch",
            dependencies: [
                "ZeroMQ", "PlanWatchModel", "PlanWatchWire", "PlanWatchSimulator", "PlanFiles", "PlanWatchRuntime", "PlanWatchConfig", "HandlerCatalog",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "planwatch-microbench",
            dependencies: [
                "PlanWatchModel", "PlanWatchWire", "PlanWatchRuntime", "PlanWatchConfig", "PlanWatchSimulator", "HandlerCatalog", "HandlerKit",
                "Finance", "DigitalInfrastructure",
                .product(name: "Benchmark", package: "swift-benchmark"),
            ],
            swiftSettings: strict),
        .target(
            name: "PoisonTestPlugin", dependencies: ["HandlerKit", "HandlerPluginABI"], path: "Tests/PoisonTestPlugin", swiftSettings: strict),
        .target(
            name: "PlanWatchTestSupport", dependencies: ["ZeroMQ", "PlanWatchModel", "PlanWatchWire"], path: "Tests/Support",
            swiftSettings: strict),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ", "PlanWatchTestSupport"], swiftSettings: strict),
        .testTarget(name: "PlanWatchModelTests", dependencies: ["PlanWatchModel", "PlanWatchWire", "PlanWatchTestSupport"], swiftSettings: strict),
        // new-handler: targets
        .testTarget(
            name: "CampusSafetyTests", dependencies: ["CampusSafety", "HandlerKitTesting", "PlanWatchTestSupport", "PlanWatchWire"],
            swiftSettings: strict),
        .testTarget(name: "EnrolmentTests", dependencies: ["Enrolment", "HandlerKitTesting"], swiftSettings: strict),
        .testTarget(
            name: "CapitalProjectsTests", dependencies: ["CapitalProjects", "HandlerKitTesting"], swiftSettings: strict),
        .testTarget(name: "TeachersTests", dependencies: ["Teachers", "HandlerKitTesting"], swiftSettings: strict),
        .testTarget(name: "FinanceTests", dependencies: ["Finance", "HandlerKitTesting"], swiftSettings: strict),
        .testTarget(name: "InspectionTests", dependencies: ["Inspection", "HandlerKitTesting"], swiftSettings: strict),
        .testTarget(name: "SafetyPreventionTests", dependencies: ["SafetyPrevention", "HandlerKitTesting"], swiftSettings: strict),
        .testTarget(name: "OffCampusTrainingTests", dependencies: ["OffCampusTraining", "HandlerKitTesting"], swiftSettings: strict),
        .testTarget(name: "SpecialEducationTests", dependencies: ["SpecialEducation", "HandlerKitTesting"], swiftSettings: strict),
        .testTarget(name: "StudentAidTests", dependencies: ["StudentAid", "HandlerKitTesting"], swiftSettings: strict),
        .testTarget(
            name: "DigitalInfrastructureTests", dependencies: ["DigitalInfrastructure", "HandlerKitTesting"], swiftSettings: strict),
        .testTarget(name: "IngestMonitorTests", dependencies: ["IngestMonitor", "HandlerKitTesting"], swiftSettings: strict),
        .testTarget(name: "ProvinceRollupTests", dependencies: ["ProvinceRollup", "HandlerKitTesting"], swiftSettings: strict),
        .testTarget(name: "PlanFilesTests", dependencies: ["PlanFiles", "HandlerCatalog", "DigitalInfrastructure"], swiftSettings: strict),
        .testTarget(
            name: "PlanWatchConfigTests", dependencies: ["PlanWatchConfig", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .testTarget(
            name: "HTTPTests",
            dependencies: [
                "planwatchd", "PlanWatchRuntime", "PlanWatchConfig", "HandlerCatalog", "PlanWatchModel", "PlanWatchWire",
                "PlanWatchTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "VerdictTests",
            dependencies: ["PlanFiles", "HandlerCatalog", "CapitalProjects", "Enrolment", "CampusSafety", "HandlerKitTesting"],
            swiftSettings: strict),
        .testTarget(
            name: "PlanWatchRuntimeTests",
            dependencies: [
                "PlanWatchRuntime", "HandlerCatalog", "ZeroMQ", "PlanWatchTestSupport", "PlanWatchSimulator", "PlanFiles",
                "DigitalInfrastructure", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ZeroMQ", "PlanWatchModel", "PlanWatchWire", "PlanWatchTestSupport", "PlanWatchSimulator", "PlanWatchRuntime", "HandlerCatalog",
                "planwatchd",
                "planwatch",
            ],
            swiftSettings: strict),
        .plugin(
            name: "NewHandler",
            capability: .command(
                intent: .custom(verb: "new-handler", description: "Scaffold a handler module with a test, and register it"),
                permissions: [.writeToPackageDirectory(reason: "creates the handler's module and test, and registers them")])),
    ]
)
