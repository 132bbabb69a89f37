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
        func harness(retention: Int64 = 1) throws -> Harness {
            try Harness(directory: directory) { config in
                config.journalPath = path
                config.retentionMilliseconds = retention
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

        // A retention of an hour from here on: nothing more is compacted while the test looks.
        let h = try harness(retention: 3_600_000)
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

    /// The dedupe window is bounded by the retention: once compaction deletes an event, the
    /// running daemon forgets its key too (docs/reliability.md), so memory does not grow with
    /// everything ever received; an event within the retention is still a duplicate.
    @Test func compactionLetsTheDedupeWindowGoOfDeletedEvents() throws {
        let h = try Harness { config in
            config.retentionMilliseconds = 1
            config.checkpointEvery = 5
            config.checkpointIntervalMilliseconds = 1
        }
        defer { h.stop() }
        let dealer = try h.dealer()
        for i in 0..<20 { #expect(try h.peer.ack(dealer, Fixtures.incident(id: "w-\(i)", incidentId: "INC-W\(i)"))[0] == "ok") }
        // Checkpoints and compactions follow the ticks; wait until w-0 has been compacted away.
        // (A journal that cannot be read counts as not compacted yet, not as compacted.)
        #expect(Wait.until(seconds: 60) {
            (try? JournalInspection.eventCounts(journalPath: h.directory.path + "/journal.sqlite")).map { $0["anquan/w-0"] == nil } ?? false
        })
        // The window lets go after the compaction's checkpoint is taken in: w-0 is new again.
        #expect(Wait.until(seconds: 60) {
            (try? h.peer.ack(dealer, Fixtures.incident(id: "w-0", incidentId: "INC-W0")))?.first == "ok"
        })
    }
}
