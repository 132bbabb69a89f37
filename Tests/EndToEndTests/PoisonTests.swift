import Foundation
import PlanWatchModel
import PlanWatchRuntime
import PlanWatchTestSupport
import PlanWatchWire
import Testing
import ZeroMQ

/// A handler that fails on what a peer sent — by throwing, or by killing the process as a
/// trap does — never keeps the daemon down and never changes state it should not. The handler
/// is the Poison test plugin (Tests/PoisonTestPlugin), loaded from a plugin directory as any
/// plugin: it counts incidents per district (`test.poison_seen`), throws on "THROW" and traps
/// on "TRAP".
@Suite struct PoisonTests {
    /// A plugin directory with the Poison plugin in it.
    static func pluginDirectory(in dir: TemporaryDirectory) throws -> String {
        let plugins = dir.path + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Products.path("libPoisonTestPlugin.so"), toPath: plugins + "/libPoisonTestPlugin.so")
        return plugins
    }

    static func incident(_ n: Int, description: String = "午餐后多名学生腹痛") -> (topic: [UInt8], body: [UInt8]) {
        let base = Fixtures.incident(id: "p-\(n)", incidentId: "INC-P\(n)", affected: 2, category: "traffic")
        let text = String(decoding: base.body, as: UTF8.self).replacingOccurrences(of: "午餐后多名学生腹痛", with: description)
        return (base.topic, Array(text.utf8))
    }

    /// Sends `message` until the daemon answers `ok` or `duplicate`, restarting the daemon
    /// whenever it is found dead, as a supervisor would. Returns the answer.
    static func deliver(
        _ message: (topic: [UInt8], body: [UInt8]), daemon: inout DaemonProcess, start: () throws -> DaemonProcess
    ) throws -> String {
        let peer = Peer()
        for _ in 0..<60 {
            let dealer = try peer.dealer(to: daemon.ack)
            defer { dealer.close() }
            try dealer.send([message.topic, message.body])
            if let reply = try dealer.receive(within: 3), reply.count == 3 {
                let status = String(decoding: reply[0], as: UTF8.self)
                if status == "ok" || status == "duplicate" || status == "rejected" { return status }
            }
            if !daemon.process.isRunning {
                daemon = try start()
            }
        }
        throw TestFailure("no answer for \(String(decoding: message.body, as: UTF8.self).prefix(80))")
    }

    @Test(arguments: JournalBackend.available)
    func aHandlerThatTrapsOnAnEventIsQuarantinedAndTheDaemonComesBack(backend: JournalBackend) throws {
        let dir = TemporaryDirectory()
        let journal = try backend.makeJournal(in: dir)
        let plugins = try Self.pluginDirectory(in: dir)
        var runs = 0
        var restarts = 0
        /// Starts the daemon as a supervisor would: again whenever it dies before it is ready.
        func start() throws -> DaemonProcess {
            while true {
                runs += 1
                let d = try DaemonProcess(
                    journal: journal, extraArguments: ["--plugin-dir", plugins], logPath: dir.path + "/d\(runs).log", waitForReady: false)
                if (try? d.waitUntilReady(seconds: 60)) != nil { return d }
                guard !d.process.isRunning, runs < 6 else { throw TestFailure("planwatchd neither ready nor dead:\n\(d.log)") }
                restarts += 1
            }
        }
        var daemon = try start()
        for n in 0..<10 { #expect(try Self.deliver(Self.incident(n), daemon: &daemon, start: start) == "ok") }
        // The poisoned event: accepted and journaled, then the plugin traps on it — on every replay too.
        let poison = Self.incident(10, description: "TRAP: 溢出")
        let answer = try Self.deliver(poison, daemon: &daemon) {
            restarts += 1  // it died on the event itself
            return try start()
        }
        #expect(answer == "duplicate" || answer == "ok")
        for n in 11..<20 { #expect(try Self.deliver(Self.incident(n), daemon: &daemon, start: start) == "ok") }
        // Two deaths on the same entry, then the third start gets past it.
        #expect(restarts >= 2 && restarts <= 3, "restarts: \(restarts)")
        let logs = (1...runs).map { (try? String(contentsOfFile: dir.path + "/d\($0).log", encoding: .utf8)) ?? "" }.joined()
        #expect(logs.contains("journal entry quarantined"))

        // Every other event was processed: 19 incidents fire, and the plugin counted them all.
        let alerts = try #require(Wait.until(seconds: 30) {
            ((try? HTTPGet.json(daemon.http + "/api/alerts"))?.count ?? 0) >= 20
        } ? try HTTPGet.json(daemon.http + "/api/alerts") : nil)
        let fingerprints = Set(alerts.compactMap { $0["fingerprint"].flatMap { if case .string(let s) = $0 { s } else { nil } } })
        for n in 0..<20 { #expect(fingerprints.contains("safety.incident/INC-P\(n)")) }
        #expect(fingerprints.contains { $0.hasPrefix("ingest.handler_quarantined/Poison/") })
        let seen = try HTTPGet.json(daemon.http + "/api/indicators?indicator=test.poison_seen")
        #expect(seen.first?["value"] == .integer(19))
        #expect(try daemon.terminate() == 0)

        // Replays agree: the quarantine is in the journal, so every replay withholds the same entry.
        let verify = try run(Products.path("planwatch"), ["replay", "--verify", "--journal", journal, "--plugin-dir", plugins])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let outputs = try run(Products.path("planwatch"), ["replay", "--journal", journal, "--plugin-dir", plugins])
        #expect(outputs.stdout.contains("deadletter.handlerFailed"))
        #expect(outputs.stdout.contains("withheld (quarantined)"))

        // And it stays up: a start after a clean stop quarantines nothing more.
        let last = try start()
        #expect(try HTTPGet.json(last.http + "/api/alerts").count == alerts.count)
        #expect(try last.terminate() == 0)
    }

    @Test(arguments: JournalBackend.available)
    func aHandlerThatThrowsChangesNothingEvenAcrossAKillBeforeTheCheckpoint(backend: JournalBackend) throws {
        let dir = TemporaryDirectory()
        let journal = try backend.makeJournal(in: dir)
        let plugins = try Self.pluginDirectory(in: dir)
        let daemon = try DaemonProcess(journal: journal, extraArguments: ["--plugin-dir", plugins], logPath: dir.path + "/d1.log")
        let peer = Peer()
        let dealer = try peer.dealer(to: daemon.ack)
        var counted = 0
        for n in 0..<30 {
            let throwing = n % 4 == 1
            #expect(try peer.ack(dealer, Self.incident(n, description: throwing ? "THROW 请拒绝" : "普通事件"))[0] == "ok")
            if !throwing { counted += 1 }
        }
        let expected = counted
        #expect(Wait.until(seconds: 30) {
            (try? HTTPGet.json(daemon.http + "/api/indicators?indicator=test.poison_seen"))?.first?["value"] == .integer(Int64(expected))
        })
        // Killed before any checkpoint: the restart replays every entry, throws included, and
        // rebuilds the plugin's state after each throw while it reads the journal.
        try daemon.kill()
        let again = try DaemonProcess(journal: journal, extraArguments: ["--plugin-dir", plugins], logPath: dir.path + "/d2.log")
        let dealer2 = try peer.dealer(to: again.ack)
        #expect(try peer.ack(dealer2, Self.incident(100))[0] == "ok")
        #expect(Wait.until(seconds: 30) {
            (try? HTTPGet.json(again.http + "/api/indicators?indicator=test.poison_seen"))?.first?["value"] == .integer(Int64(expected + 1))
        })
        #expect(try again.terminate() == 0)
        let verify = try run(Products.path("planwatch"), ["replay", "--verify", "--journal", journal, "--plugin-dir", plugins])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}

/// JSON from the daemon's HTTP API (test side).
enum HTTPGet {
    static func json(_ url: String) throws -> [JSONObject] {
        let data = try Data(contentsOf: URL(string: url)!)
        guard case .array(let items) = try JSONParser.parse([UInt8](data)) else { throw TestFailure("\(url) is not a JSON array") }
        return items.compactMap { if case .object(let o) = $0 { o } else { nil } }
    }
}
