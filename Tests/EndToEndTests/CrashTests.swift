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
        let otherReplies = Mutex<[String]>([])
        let received = Mutex<[(seq: Int64, body: [UInt8])]>([])
        var ackedCount: Int { acked.withLock { $0.count } }
    }

    static func event(source: String, n: Int) -> (topic: [UInt8], body: [UInt8], id: String) {
        let id = "\(source)-\(n)"
        let region = ["370302", "370303", "370305"][n % 3]
        let body: JSONValue = .object([
            "id": .string(id), "type": "safety.incident", "source": .string(source), "seq": .integer(Int64(n + 1)),
            "occurredAt": .string(Fixtures.now), "region": .string(region), "schemaVersion": 1,
            "payload": .object([
                "incidentId": .string("INC-\(source)-\(n / 2)"), "schoolId": .string("\(region)-00\(n % 40)"),
                "category": "traffic", "status": .string(n % 2 == 0 ? "reported" : "resolved"), "affected": .integer(Int64(n % 50)),
                "injured": 0, "deaths": 0, "reportedAt": .string(Fixtures.now),
            ]),
        ])
        return (Array("safety.incident.\(region)".utf8), JSONWriter.bytes(body), id)
    }

    /// One producer: a window of events in flight on a DEALER; anything not answered
    /// `ok`/`duplicate` within 2 s is sent again (the daemon may have died meanwhile).
    static func produce(source: String, count: Int, ack: String, into seen: Observations) {
        let context = ZMQContext()
        guard let dealer = try? ZMQSocket(context: context, type: .dealer), (try? dealer.connect(ack)) != nil else { return }
        var pending: [String: (frames: [[UInt8]], sentAt: Date)] = [:]
        var next = 0
        var done = 0
        var poller = Poller()
        poller.add(dealer)
        let deadline = Date().addingTimeInterval(600)
        while done < count && Date() < deadline {
            while pending.count < 64 && next < count {
                let e = event(source: source, n: next)
                _ = try? dealer.send([e.topic, e.body])
                pending[e.id] = ([e.topic, e.body], Date())
                next += 1
            }
            if (try? poller.poll(timeoutMilliseconds: 100))?[0] == true {
                while let reply = try? dealer.receive(wait: false), reply.count == 3 {
                    let status = String(decoding: reply[0], as: UTF8.self)
                    let id = String(decoding: reply[1], as: UTF8.self)
                    guard pending[id] != nil else { continue }
                    if status == "ok" || status == "duplicate" {
                        pending[id] = nil
                        done += 1
                        seen.acked.withLock { _ = $0.insert("\(source)/\(id)") }
                    } else if status == "busy" {
                        pending[id]?.sentAt = .distantPast
                    } else {
                        seen.otherReplies.withLock { $0.append("\(status) \(id)") }
                    }
                }
            }
            let now = Date()
            for (id, p) in pending where now.timeIntervalSince(p.sentAt) > 2 {
                _ = try? dealer.send(p.frames)
                pending[id]?.sentAt = now
            }
        }
        dealer.close()
    }

    @Test(arguments: JournalBackend.available)
    func killedAgainAndAgainItLosesNothingAcknowledgedAndCountsNothingTwice(backend: JournalBackend) throws {
        let dir = TemporaryDirectory()
        let journal = try backend.makeJournal(in: dir)
        let seen = Observations()
        var daemon = try DaemonProcess(journal: journal, logPath: dir.path + "/d0.log")
        let endpoints = daemon.endpoints
        let producers = 3
        let perProducer = 7000
        let stop = Atomic<Bool>(false)

        // A subscriber that stays across restarts (SUB reconnects by itself).
        let subscriber = Thread {
            let context = ZMQContext()
            guard let sub = try? ZMQSocket(context: context, type: .sub) else { return }
            try? sub.set(.subscribe("alert."))
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
                Self.produce(source: "producer-\(k)", count: perProducer, ack: endpoints.1, into: seen)
                finished.leave()
            }.start()
        }

        var recoveries: [Double] = []
        let total = producers * perProducer
        var generator = SystemRandomNumberGenerator()
        for round in 1...4 {
            // Kill at a random moment: after a random share of this round's slice is acknowledged.
            let target = total * round / 5 - Int.random(in: 0..<(total / 10), using: &generator)
            _ = Wait.until(seconds: 300) { seen.ackedCount >= target }
            try daemon.kill()
            daemon = try DaemonProcess(journal: journal, logPath: dir.path + "/d\(round).log", endpoints: endpoints)
            recoveries.append(daemon.secondsToReady)
        }
        #expect(finished.wait(timeout: .now() + 600) == .success)
        #expect(try daemon.terminate() == 0)
        stop.store(true, ordering: .releasing)

        // Every acknowledged event is in the journal exactly once, and nothing else is.
        let acked = seen.acked.withLock { $0 }
        #expect(acked.count == total)
        #expect(seen.otherReplies.withLock { $0 }.isEmpty)
        let counts = try JournalInspection.eventCounts(journalPath: journal)
        #expect(counts.count == total)
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(Set(counts.keys) == acked)

        // The state rebuilt from the journal alone equals the daemon's checkpoint.
        let verify = try run(Products.path("planwatch"), ["replay", "--verify", "--journal", journal])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // seq never goes backwards: a number seen again is the same message re-sent after a crash.
        let received = seen.received.withLock { $0 }
        var bySeq: [Int64: [UInt8]] = [:]
        var highest: Int64 = 0
        for message in received {
            if message.seq <= highest {
                #expect(bySeq[message.seq] == message.body, "seq \(message.seq) went backwards with another body")
            }
            bySeq[message.seq] = message.body
            highest = max(highest, message.seq)
        }
        #expect(highest > 0)

        let figures = """
            {"journal": "\(backend)", "producers": \(producers), "eventsSent": \(total), "acknowledged": \(acked.count), "inJournal": \(counts.count), \
            "lost": \(acked.subtracting(counts.keys).count), "duplicates": \(counts.values.filter { $0 > 1 }.count), \
            "restarts": \(recoveries.count), "secondsToReady": \(recoveries.map { (($0 * 1000).rounded()) / 1000 }), \
            "alertsReceived": \(received.count), "distinctSeqReceived": \(bySeq.count), "highestSeq": \(highest)}
            """
        try? FileManager.default.createDirectory(atPath: "artifacts", withIntermediateDirectories: true)
        try? figures.write(toFile: "artifacts/reliability-crash-\(backend).json", atomically: true, encoding: .utf8)
        print("crash test figures: \(figures)")
    }
}
