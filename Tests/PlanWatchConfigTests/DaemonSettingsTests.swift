import Foundation
import Logging
import PlanWatchConfig
import Testing

/// The daemon's one configuration layer: flags over the file over the embedded defaults.
@Suite struct DaemonSettingsTests {
    let quiet: Logger = {
        var l = Logger(label: "test")
        l.logLevel = .critical
        return l
    }()

    func file(_ yaml: String) throws -> DaemonConfig {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("planwatch-settings-\(UUID()).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try DaemonConfig.load(path: path)
    }

    @Test func withNeitherFileNorFlagsTheContractsEndpointsAndDefaultsHold() throws {
        let s = try DaemonSettings.resolve(file: nil, builtIn: [], logger: quiet)
        #expect(s.runtime.journalPath == "var/planwatch.sqlite")
        #expect(s.runtime.ingestBind == ["tcp://127.0.0.1:5550"] && s.runtime.ackBind == ["tcp://127.0.0.1:5551"])
        #expect(s.runtime.publishBind == ["tcp://127.0.0.1:5560"] && s.runtime.snapshotBind == ["tcp://127.0.0.1:5561"])
        #expect(s.runtime.retentionMilliseconds == 168 * 3_600_000)
        #expect(s.serving.http?.host == "127.0.0.1" && s.serving.http?.port == 8080)
        #expect(s.serving.alertmanager.urls.isEmpty && s.plugins.isEmpty)
    }

    @Test func aFlagWinsOverTheFileAndWhatNoFlagNamesKeepsTheFilesValue() throws {
        let config = try file(
            """
            storage: {url: "postgres://planwatch@db:5432/planwatch", retentionHours: 2}
            ingest: {bind: ["tcp://127.0.0.1:6550"], topics: ["safety."]}
            http: {bind: "127.0.0.1:9000", externalURL: "https://console.example"}
            alertmanager: {url: "http://127.0.0.1:9093", urls: ["http://127.0.0.1:9094"], batchSize: 8}
            pipeline: {tickIntervalMs: 500, maxBatch: 100}
            clock: event
            """)
        var flags = DaemonSettings.Flags()
        flags.journal = "/srv/planwatch/journal.sqlite"
        flags.ingestBind = ["tcp://127.0.0.1:7550"]
        flags.httpBind = "off"
        flags.alertmanagerURLs = ["http://127.0.0.1:9095"]
        flags.tickIntervalMs = 250
        let s = try DaemonSettings.resolve(file: config, flags: flags, builtIn: [], logger: quiet)
        // The flags: a SQLite journal in place of the file's PostgreSQL one, HTTP off, one Alertmanager.
        #expect(s.runtime.journalPath == "/srv/planwatch/journal.sqlite")
        #expect(s.runtime.ingestBind == ["tcp://127.0.0.1:7550"])
        #expect(s.serving.http == nil)
        #expect(s.serving.alertmanager.urls.map(\.absoluteString) == ["http://127.0.0.1:9095"])
        #expect(s.runtime.tickIntervalMilliseconds == 250)
        // The file, where no flag spoke.
        #expect(s.runtime.retentionMilliseconds == 2 * 3_600_000)
        #expect(s.runtime.ingestTopics == ["safety."])
        #expect(s.serving.alertmanager.batchSize == 8)
        #expect(s.serving.alertmanager.externalURL == "https://console.example")
        #expect(s.runtime.maxBatch == 100)
        #expect(s.handlers.clock.rawValue == "event")
    }

    /// A retention too large to count in milliseconds used to trap the daemon at start.
    @Test func aRetentionBeyondAMillionHoursIsRefusedWhereverItComesFrom() throws {
        for hours in [1e300, .infinity, 1_000_000.5, -1] {
            var flags = DaemonSettings.Flags()
            flags.retentionHours = hours
            #expect(throws: DaemonConfig.Invalid.self) { try DaemonSettings.resolve(file: nil, flags: flags, builtIn: [], logger: quiet) }
        }
        let config = try file("storage: {retentionHours: 1e300}")
        #expect(throws: DaemonConfig.Invalid.self) { try DaemonSettings.resolve(file: config, builtIn: [], logger: quiet) }
        var flags = DaemonSettings.Flags()
        flags.retentionHours = 1_000_000
        let s = try DaemonSettings.resolve(file: config, flags: flags, builtIn: [], logger: quiet)
        #expect(s.runtime.retentionMilliseconds == 3_600_000_000_000)
    }
}
