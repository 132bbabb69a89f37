import Foundation
import HandlerCatalog
import HandlerKit
import Logging
import PlanWatchModel
import PlanWatchRuntime
import PlanWatchTestSupport
import PlanWatchWire
import Synchronization
import Testing

/// Checkpoints write a handler's subjects (``SubjectMap``) a subject at a time: only those
/// that changed since the last checkpoint, and a restart reads back the whole state.
@Suite struct SubjectMapTests {
    struct State: Codable, Equatable, Sendable {
        var rooms = SubjectMap<Int64>()
        var total: Int64 = 0
    }

    func checkpoint(_ state: State, full: Bool = false) throws -> (json: Data, rows: [SubjectRow]) {
        let sink = SubjectSink(full: full)
        let encoder = JSONEncoder()
        encoder.userInfo[.planwatchSubjects] = sink
        return (try encoder.encode(state), sink.rows)
    }

    func restore(_ json: Data, _ rows: [SubjectRow]) throws -> State {
        let decoder = JSONDecoder()
        decoder.userInfo[.planwatchSubjects] = SubjectSource(rows)
        return try decoder.decode(State.self, from: json)
    }

    @Test func onlyWhatChangedSinceTheLastCheckpointIsWrittenAndRemovalsAreNamed() throws {
        var state = State()
        for i in 1...100 { state.rooms["r\(i)"] = Int64(i) }
        let first = try checkpoint(state)
        #expect(first.rows.count == 100)
        #expect(String(decoding: first.json, as: UTF8.self).contains("\"rooms\":\"subjects in rows\""))
        #expect(try checkpoint(state).rows.isEmpty, "nothing changed, nothing written")

        state.rooms["r7"] = 70
        state.rooms["r8", default: 0] += 1
        state.rooms.removeValue(forKey: "r9")
        state.total = 3
        let next = try checkpoint(state)
        #expect(Dictionary(uniqueKeysWithValues: next.rows.map { ($0.key, $0.value.map { String(decoding: $0, as: UTF8.self) }) })
            == ["r7": "70", "r8": "9", "r9": nil])

        // The stored rows with the changes applied read back as the state.
        var stored = Dictionary(uniqueKeysWithValues: first.rows.map { ($0.key, $0) })
        for row in next.rows { stored[row.key] = row.value == nil ? nil : row }
        #expect(try restore(next.json, Array(stored.values)) == state)
        // With `full`, every subject, whatever changed.
        #expect(try checkpoint(state, full: true).rows.count == 99)
    }

    @Test func outsideACheckpointAMapIsAPlainObjectAndOldCheckpointsStillRead() throws {
        var state = State()
        state.rooms["a"] = 1
        let json = try JSONEncoder().encode(state)
        #expect(String(decoding: json, as: UTF8.self).contains("\"rooms\":{\"a\":1}"))
        // A checkpoint written before subjects were rows holds the whole map in the state.
        #expect(try restore(json, []) == state)
        #expect(try JSONDecoder().decode(State.self, from: json) == state)
    }
}

/// A log handler that keeps what the checkpoint writer says.
final class CheckpointLog: Sendable {
    let saved = Mutex<[(position: Int64, written: Int)]>([])

    var handler: LogHandler { Handler(log: self) }

    struct Handler: LogHandler {
        let log: CheckpointLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            guard event.message.description == "checkpoint saved", let m = event.metadata,
                let position = m["position"].flatMap({ Int64("\($0)") }), let written = m["subjects.written"].flatMap({ Int("\($0)") })
            else { return }
            log.saved.withLock { $0.append((position, written)) }
        }
    }
}

@Suite struct IncrementalCheckpointTests {
    func census(_ school: String, classes: Int, size: Int64 = 40) -> (topic: [UInt8], body: [UInt8]) {
        let body: JSONValue = .object([
            "id": .string(UUID().uuidString), "type": "enrolment.census", "source": "xueji", "occurredAt": .string(Fixtures.now),
            "region": "370303", "schemaVersion": 1,
            "payload": .object([
                "schoolId": .string(school), "level": "primary", "ownership": "public", "term": "2026-autumn",
                "classes": .array((1...classes).map { .object(["classId": .string("c\($0)"), "size": .integer(size)]) }),
            ]),
        ])
        return (Array("enrolment.census.370303".utf8), JSONWriter.bytes(body))
    }

    /// With compaction under way throughout (a retention of 1 ms), so that the rows kept
    /// for the journal's new start (the base) are what a replay from the start reads.
    @Test(arguments: JournalBackend.available)
    func aCheckpointWritesTheSubjectsThatChangedAndARestartReadsBackTheWholeState(backend: JournalBackend) throws {
        let dir = TemporaryDirectory()
        let journal = try backend.makeJournal(in: dir)
        let log = CheckpointLog()
        var logger = Logger(label: "test", factory: { _ in log.handler })
        logger.logLevel = .info
        let configure = { (config: inout RuntimeConfig) in
            config.journalPath = journal
            config.checkpointEvery = 1
            config.checkpointIntervalMilliseconds = 1
            config.retentionMilliseconds = 1
        }
        let harness = try Harness(directory: dir, logger: logger, configure: configure)
        let dealer = try harness.dealer()
        #expect(try harness.peer.ack(dealer, census("370303-0042", classes: 200))[0] == "ok")
        let classes = { (try? JournalInspection.checkpointSubjects(journalPath: journal))?.keys.filter { $0.hasPrefix("Enrolment/classes/") }.count }
        #expect(Wait.until(seconds: 60) { classes() == 200 }, "classes stored: \(String(describing: classes()))")

        // The same census again, then one with 50 classes closed: the checkpoints that follow
        // write those 50 (and the school), never the 200 again.
        let before = log.saved.withLock { $0.count }
        #expect(try harness.peer.ack(dealer, census("370303-0042", classes: 200))[0] == "ok")
        #expect(try harness.peer.ack(dealer, census("370303-0042", classes: 150))[0] == "ok")
        #expect(Wait.until(seconds: 60) { classes() == 150 }, "classes stored: \(String(describing: classes()))")
        let written = log.saved.withLock { $0.dropFirst(before).map(\.written) }
        #expect(written.contains { $0 >= 50 } && written.allSatisfy { $0 <= 53 }, "subjects written per checkpoint: \(written)")
        harness.stop()
        let verify = { try Replay.verify(journalPath: journal, handlers: HandlerCatalog.builtIn(), config: RuntimeConfig(), logger: Logger(label: "test")) }
        // Rebuilt from the journal alone, the state equals the checkpoint's states and rows.
        let first = try verify()
        #expect(first.ok, "\(first.differences)")
        #expect(try JournalInspection.entryCount(journalPath: journal) < 10, "the journal was compacted meanwhile")

        // A restart reads the rows back and goes on writing only what changes.
        let again = try Harness(directory: dir, configure: configure)
        #expect(try again.peer.ack(try again.dealer(), census("370303-0042", classes: 120))[0] == "ok")
        #expect(Wait.until(seconds: 60) { classes() == 120 }, "classes stored: \(String(describing: classes()))")
        again.stop()
        let second = try verify()
        #expect(second.ok, "\(second.differences)")
    }
}
