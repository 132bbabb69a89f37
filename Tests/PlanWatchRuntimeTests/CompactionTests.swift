import Foundation
import HandlerCatalog
import Logging
import PlanWatchRuntime
import PlanWatchTestSupport
import Testing

/// Retention: the journal is compacted up to a checkpoint, never past what the last
/// checkpoint needs; state and verification survive it.
@Suite struct CompactionTests {
    @Test(arguments: JournalBackend.available)
    func compactionKeepsWhatTheCheckpointNeedsAndStateSurvivesARestart(backend: JournalBackend) throws {
        let directory = TemporaryDirectory()
        let path = try backend.makeJournal(in: directory)
        func harness() throws -> Harness {
            try Harness(directory: directory) { config in
                config.journalPath = path
                config.retentionMilliseconds = 1
                config.checkpointEvery = 20
                config.checkpointIntervalMilliseconds = 1
            }
        }
        do {
            let h = try harness()
            let dealer = try h.dealer()
            for i in 0..<200 {
                #expect(try h.peer.ack(dealer, Fixtures.incident(id: "c-\(i)", incidentId: "INC-C\(i)"))[0] == "ok")
            }
            h.stop()
        }
        let remaining = try JournalInspection.entryCount(journalPath: path)
        #expect(remaining < 200, "\(remaining) entries left")
        let stillJournaled = try JournalInspection.eventCounts(journalPath: path).keys.sorted()

        var logger = Logger(label: "verify")
        logger.logLevel = .critical
        var config = RuntimeConfig()
        config.clock = .wall
        let verification = try Replay.verify(journalPath: path, handlers: HandlerCatalog.builtIn(), config: config, logger: logger)
        #expect(verification.ok, "\(verification.differences)")

        let h = try harness()
        defer { h.stop() }
        let sub = try h.subscriber(["alert.safety"])
        let dealer = try h.dealer()
        // The first incident's alert still fires in the restored state: resolving it resolves it.
        #expect(try h.peer.ack(dealer, Fixtures.incident(id: "c-resolve", incidentId: "INC-C0", status: "resolved"))[0] == "ok")
        let resolved = try #require(try sub.receive(within: 30) { Published($0)?.string("fingerprint") == "safety.incident/INC-C0" })
        #expect(Published(resolved)?.string("status") == "resolved")
        // Events still in the journal are still duplicates.
        for key in stillJournaled.prefix(3) {
            let id = String(key.split(separator: "/").last!)
            #expect(try h.peer.ack(dealer, Fixtures.incident(id: id, incidentId: "INC-X"))[0] == "duplicate")
        }
    }
}
