import Foundation
import PlanWatchModel
import PlanWatchTestSupport
import Synchronization
import Testing
import ZeroMQ

/// Memory stays bounded whatever peers send: invalid 1 MiB messages on every socket, twice,
/// 10,000 snapshot requests nobody reads, and two subscribers that never read. Bounds and
/// figures in docs/reliability.md.
@Suite struct FloodTests {
    /// The daemon's resident memory, from /proc.
    static func rss(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    static let mib = 1 << 20
    /// What a flood may add to the daemon's memory, at most.
    static let bound = 512 * mib

    @Test func floodsOfInvalidMegabyteMessagesAndStalledPeersKeepMemoryBoundedAndOthersServed() throws {
        let dir = TemporaryDirectory()
        let daemon = try DaemonProcess(journal: dir.path + "/j.sqlite", logPath: dir.path + "/d.log")
        let pid = daemon.process.processIdentifier
        let peer = Peer()
        let dealer = try peer.dealer(to: daemon.ack)
        #expect(try peer.ack(dealer, Fixtures.incident(id: "f-0", incidentId: "INC-F0"))[0] == "ok")
        let idle = Self.rss(pid)
        // An RSS that cannot be read would make every bound below hold trivially.
        try #require(idle > 0, "cannot read VmRSS of the daemon from /proc/\(pid)/status")

        // Two subscribers that never read, each taking everything.
        let context = ZMQContext()
        var stalled: [ZMQSocket] = []
        for _ in 0..<2 {
            let sub = try ZMQSocket(context: context, type: .sub)
            try sub.set(.receiveHighWaterMark(10))
            try sub.set(.subscribe(""))
            try sub.connect(daemon.publish)
            stalled.append(sub)
        }
        let peak = Atomic<Int>(0)
        let sampling = Atomic<Bool>(true)
        let sampler = Thread {
            while sampling.load(ordering: .relaxed) {
                let now = Self.rss(pid)
                if now > peak.load(ordering: .relaxed) { peak.store(now, ordering: .relaxed) }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        sampler.start()

        let junk = [UInt8](repeating: UInt8(ascii: "x"), count: Self.mib)
        let topic = Array("safety.incident.370303".utf8)
        for round in 1...2 {
            // Acknowledged path: a DEALER that never reads its replies.
            let flooder = try ZMQSocket(context: context, type: .dealer)
            try flooder.set(.sendHighWaterMark(0))
            try flooder.connect(daemon.ack)
            // Fire-and-forget path.
            let publisher = try peer.producer(to: daemon.ingest)
            // Snapshot ROUTER: requests nobody reads, and messages past its size limit.
            let asker = try ZMQSocket(context: context, type: .dealer)
            try asker.set(.sendHighWaterMark(0))
            try asker.set(.receiveHighWaterMark(1))
            try asker.connect(daemon.snapshot)
            for _ in 0..<750 {
                try flooder.send([topic, junk])
                try publisher.send([topic, junk])
            }
            for _ in 0..<10_000 { try asker.send([Array("snapshot".utf8), Array("".utf8)]) }
            for _ in 0..<100 { try asker.send([Array("snapshot".utf8), junk]) }

            // Meanwhile, other clients are served.
            let other = try peer.dealer(to: daemon.ack)
            #expect(try peer.ack(other, Fixtures.incident(id: "f-\(round)", incidentId: "INC-F\(round)"))[0] == "ok")
            let reader = try ZMQSocket(context: context, type: .dealer)
            try reader.connect(daemon.snapshot)
            try reader.send([Array("snapshot".utf8), Array("alert.".utf8)])
            #expect(try reader.receive(within: 60, where: { $0.first == Array("end".utf8) }) != nil)
            // The flood is over when its dead letters are journaled.
            let expected = 1500 * round
            #expect(Wait.until(seconds: 180) {
                daemon.metric("planwatch_events_rejected_total{reason=\"tooLarge\"}") >= Double(expected)
            })
            flooder.close()
            publisher.close()
            asker.close()
            reader.close()
            other.close()
        }
        sampling.store(false, ordering: .relaxed)
        while sampler.isExecuting { Thread.sleep(forTimeInterval: 0.01) }
        let grew = peak.load(ordering: .relaxed) - idle
        #expect(peak.load(ordering: .relaxed) > 0, "the sampler read no RSS during the flood")
        print("flood figures: idle RSS \(idle / Self.mib) MiB, peak \(peak.load(ordering: .relaxed) / Self.mib) MiB (+\(grew / Self.mib) MiB)")
        #expect(grew <= Self.bound, "RSS grew by \(grew / Self.mib) MiB, more than \(Self.bound / Self.mib) MiB")
        // It falls back once the flood is over.
        #expect(Wait.until(seconds: 60) { Self.rss(pid) - idle <= 128 * Self.mib }, "RSS stayed at \(Self.rss(pid) / Self.mib) MiB")
        print("flood figures: after the flood \(Self.rss(pid) / Self.mib) MiB")
        #expect(try peer.ack(dealer, Fixtures.incident(id: "f-after", incidentId: "INC-FA"))[0] == "ok")
        for s in stalled { s.close() }
        #expect(try daemon.terminate() == 0)
    }
}
