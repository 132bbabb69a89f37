import Foundation
import PlanWatchModel
import PlanWatchRuntime
import PlanWatchTestSupport
import Synchronization
import Testing
import ZeroMQ

/// Principles 2–4 of DESIGN.md with the faults injected: producers resending until `ok` or
/// `duplicate` while the daemon is killed with SIGKILL and restarted, several times.
@Suite struct CrashTests {
    /// What the producers and the subscriber saw, shared across their threads.
    final class Observations: Sendable {
        let acked = Mutex<Set<String>>([])
        let rejected = Mutex<Set<String>>([])
        let received = Mutex<[(seq: Int64, body: [UInt8])]>([])
        var answeredCount: Int { acked.withLock { $0.count } + rejected.withLock { $0.count } }
    }

    /// Event `n` of a producer: most are ordinary incidents; every 37th is invalid (an
    /// unknown category: rejected and dead-lettered), every 23rd makes the Poison plugin throw.
    static func event(source: String, n: Int) -> (topic: [UInt8], body: [UInt8], id: String) {
        let id = "\(source)-\(n)"
        let region = ["370302", "370303", "370305"][n % 3]
        let invalid = n % 37 == 36
        let body: JSONValue = .object([
            "id": .string(id), "type": "safety.incident", "source": .string(source), "seq": .integer(Int64(n + 1)),
            "occurredAt": .string(Fixtures.now), "region": .string(region), "schemaVersion": 1,
            "payload": .object([
                "incidentId": .string("INC-\(source)-\(n / 2)"), "schoolId": .string("\(region)-00\(n % 40)"),
                "category": .string(invalid ? "volcano" : "traffic"), "status": .string(n % 2 == 0 ? "reported" : "resolved"),
                "affected": .integer(Int64(n % 50)), "injured": 0, "deaths": 0, "reportedAt": .string(Fixtures.now),
                "description": .string(n % 23 == 22 ? "THROW" : "路口追尾"),
            ]),
        ])
        return (Array("safety.incident.\(region)".utf8), JSONWriter.bytes(body), id)
    }

    static func isInvalid(_ id: String) -> Bool { (Int(id.split(separator: "-").last ?? "") ?? 0) % 37 == 36 }

    /// How the test kills the daemon, round by round: under load, while it recovers from the
    /// last kill, while it shuts down on SIGTERM. With a checkpoint every 50 entries or 300 ms
    /// and 18 s of retention (longer than a producer takes to resend across a restart: a
    /// duplicate is recognised for one retention), checkpoints and compactions keep coming.
    enum Kill: CaseIterable { case underLoad, duringRecovery, duringShutdown }

    @Test(arguments: JournalBackend.available)
    func killedAgainAndAgainItLosesNothingAcknowledgedAndCountsNothingTwice(backend: JournalBackend) throws {
        let dir = TemporaryDirectory()
        let journal = try backend.makeJournal(in: dir)
        let plugins = try PoisonTests.pluginDirectory(in: dir)
        let config = dir.path + "/planwatchd.yaml"
        try """
            pipeline: {checkpointEvery: 50, checkpointIntervalMs: 300}
            storage: {retentionHours: 0.005}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let arguments = ["--config", config, "--plugin-dir", plugins]
        let seen = Observations()
        var daemon = try DaemonProcess(journal: journal, extraArguments: arguments, logPath: dir.path + "/d0.log")
        let endpoints = daemon.endpoints
        let producers = 3
        let perProducer = 4000
        let stop = Atomic<Bool>(false)

        // A subscriber that stays across restarts (SUB reconnects by itself).
        let subscriber = Thread {
            let context = ZMQContext()
            guard let sub = try? ZMQSocket(context: context, type: .sub) else { return }
            try? sub.set(.subscribe(""))
            try? sub.connect(endpoints.2)
            while !stop.load(ordering: .acquiring) {
                if let frames = try? sub.receive(within: 0.1), let p = Published(frames) {
                    seen.received.withLock { $0.append((p.seq, frames[1])) }
                }
            }
            sub.close()
        }
        subscriber.start()

        let finished = DispatchGroup()
        for k in 0..<producers {
            finished.enter()
            Thread {
                Producer.run(count: perProducer, ack: endpoints.1) { n in
                    Self.event(source: "producer-\(k)", n: n)
                } answered: { id, status in
                    let key = "producer-\(k)/\(id)"
                    if status == "rejected" {
                        seen.rejected.withLock { _ = $0.insert(key) }
                    } else {
                        seen.acked.withLock { _ = $0.insert(key) }
                    }
                }
                finished.leave()
            }.start()
        }

        var recoveries: [Double] = []
        var kills: [String] = []
        var killedMidRecovery = 0
        let total = producers * perProducer
        let rounds = 12
        var generator = SystemRandomNumberGenerator()
        for round in 1...rounds {
            let kind = Kill.allCases[round % Kill.allCases.count]
            // Each round at a random point of its slice of the stream.
            let target = total * round / (rounds + 1) - Int.random(in: 0..<(total / (rounds * 2)), using: &generator)
            _ = Wait.until(seconds: 300) { seen.answeredCount >= target }
            switch kind {
            case .underLoad:
                try daemon.kill()
            case .duringRecovery:
                try daemon.kill()
                let recovering = try DaemonProcess(
                    journal: journal, extraArguments: arguments, logPath: dir.path + "/r\(round).log", endpoints: endpoints, waitForReady: false)
                // Its plans are loaded just before it opens the journal: from there, a random
                // moment of the recovery (injected chaos, not a wait for a condition).
                _ = Wait.until(seconds: 60) { recovering.log.contains("plans loaded") }
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.3, using: &generator))
                try recovering.kill()
                if !recovering.log.contains("journal recovered") { killedMidRecovery += 1 }
            case .duringShutdown:
                daemon.process.terminate()
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.3, using: &generator))
                try daemon.kill()
            }
            kills.append("\(kind)")
            daemon = try DaemonProcess(journal: journal, extraArguments: arguments, logPath: dir.path + "/d\(round).log", endpoints: endpoints)
            recoveries.append(daemon.secondsToReady)
        }
        #expect(finished.wait(timeout: .now() + 600) == .success)
        // At least one of the kills meant for a recovery came before it had finished.
        #expect(killedMidRecovery > 0, "every kill during recovery came after the journal was recovered")

        // Every valid event was acknowledged, every invalid one answered rejected.
        let acked = seen.acked.withLock { $0 }
        let rejected = seen.rejected.withLock { $0 }
        #expect(acked.count + rejected.count == total)
        #expect(rejected.allSatisfy { Self.isInvalid($0) } && acked.allSatisfy { !Self.isInvalid($0) })
        #expect(rejected.count == producers * (perProducer / 37))
        // Counted from outside: the Poison plugin counts each incident it handled once per
        // district, so its count equals the acknowledged events it took (those it threw on
        // change nothing) exactly when none was lost and none counted twice — whatever the
        // compactions deleted from the journal meanwhile.
        var expected: [String: Int64] = [:]
        for key in acked {
            let n = Int(key.split(separator: "-").last ?? "") ?? 0
            if n % 23 != 22 { expected[["370302", "370303", "370305"][n % 3], default: 0] += 1 }
        }
        var counted: [String: Int64] = [:]
        for update in try HTTPGet.json(daemon.http + "/api/indicators?indicator=test.poison_seen") {
            if case .string(let region)? = update["region"], case .integer(let value)? = update["value"] { counted[region] = value }
        }
        let lost = expected.reduce(Int64(0)) { sum, e in sum + max(0, e.value - (counted[e.key] ?? 0)) }
        let doubled = expected.reduce(Int64(0)) { sum, e in sum + max(0, (counted[e.key] ?? 0) - e.value) }
        #expect(counted == expected, "lost \(lost), counted twice \(doubled)")
        let firing = { (d: DaemonProcess) in try HTTPGet.json(d.http + "/api/alerts").map { JSONWriter.string(.object($0)) }.sorted() }
        let firingAtTheEnd = try firing(daemon)
        #expect(!firingAtTheEnd.isEmpty)
        #expect(try daemon.terminate() == 0)
        stop.store(true, ordering: .releasing)
        // What is still in the journal is there once.
        let counts = try JournalInspection.eventCounts(journalPath: journal)
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(Set(counts.keys).isSubset(of: acked))

        // The state rebuilt from the journal alone equals the daemon's checkpoint.
        let verify = try run(Products.path("planwatch"), ["replay", "--verify", "--journal", journal, "--config", config, "--plugin-dir", plugins])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // Started again from that checkpoint (its output store keeps firing alerts as topic
        // and seq, the alert from the desk's row), it serves the same firing alerts, byte for byte.
        let again = try DaemonProcess(journal: journal, extraArguments: arguments, logPath: dir.path + "/again.log", endpoints: endpoints)
        #expect(try firing(again) == firingAtTheEnd)
        #expect(try again.terminate() == 0)

        // seq never goes backwards: a number seen again is the same message re-sent after a
        // crash, with its original body.
        let received = seen.received.withLock { $0 }
        var bySeq: [Int64: [UInt8]] = [:]
        var highest: Int64 = 0
        var republished = 0
        for message in received {
            if message.seq <= highest, let first = bySeq[message.seq] {
                republished += 1
                #expect(first == message.body, "seq \(message.seq) came again with another body")
            }
            if bySeq[message.seq] == nil { bySeq[message.seq] = message.body }
            highest = max(highest, message.seq)
        }
        #expect(highest > 0)
        let deadLetters = received.filter { String(decoding: $0.body, as: UTF8.self).contains("\"reason\":\"handlerFailed\"") }
        #expect(!deadLetters.isEmpty, "the throwing handler's dead letters were published")

        let figures = """
            {"journal": "\(backend)", "producers": \(producers), "eventsSent": \(total), "acknowledged": \(acked.count), \
            "rejected": \(rejected.count), "stillInJournal": \(counts.count), "lost": \(lost), "countedTwice": \(doubled), \
            "kills": \(kills.count), "killedMidRecovery": \(killedMidRecovery), "killKinds": \(kills.map { "\"\($0)\"" }), \
            "secondsToReady": \(recoveries.map { (($0 * 1000).rounded()) / 1000 }), \
            "outputsReceived": \(received.count), "distinctSeqReceived": \(bySeq.count), "republishedSeen": \(republished), \
            "highestSeq": \(highest)}
            """
        try? FileManager.default.createDirectory(atPath: "artifacts", withIntermediateDirectories: true)
        try? figures.write(toFile: "artifacts/reliability-crash-\(backend).json", atomically: true, encoding: .utf8)
        print("crash test figures: \(figures)")
    }
}
