import Foundation
import PlanWatchModel
import PlanWatchTestSupport
import Testing
import ZeroMQ

/// Handler modules built as dynamic libraries, loaded by planwatchd at start.
@Suite struct DynamicPluginTests {
    func budget(id: String, year: Int64, spending: Int64, perPupil: Int64) -> (topic: [UInt8], body: [UInt8]) {
        let body: JSONValue = .object([
            "id": .string(id), "type": "finance.budget", "source": "caizheng", "occurredAt": .string(Fixtures.now),
            "region": "370300", "schemaVersion": 1,
            "payload": .object(["year": .integer(year), "educationSpending": .integer(spending), "perPupilSpending": .integer(perPupil)]),
        ])
        return (Array("finance.budget.370300".utf8), JSONWriter.bytes(body))
    }

    @Test func theFinancePluginIsLoadedListedAndRunsEndToEnd() throws {
        let dir = TemporaryDirectory()
        let plugins = dir.path + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Products.path("libFinancePlugin.so"), toPath: plugins + "/libFinancePlugin.so")
        let daemon = try DaemonProcess(
            journal: dir.path + "/j.sqlite", extraArguments: ["--plugin-dir", plugins, "--require-plugin", "Finance"],
            logPath: dir.path + "/d.log")
        #expect(daemon.log.contains("plugin loaded"))
        let health = try #require(Wait.until(seconds: 30) { (try? String(contentsOf: URL(string: daemon.http + "/healthz")!, encoding: .utf8)) != nil }
            ? try String(contentsOf: URL(string: daemon.http + "/healthz")!, encoding: .utf8) : nil)
        #expect(health.contains("plugin Finance 1.3.0"))

        let peer = Peer()
        let sub = try peer.subscriber(to: daemon.publish, prefixes: ["alert.finance"], probeAck: daemon.ack)
        let dealer = try peer.dealer(to: daemon.ack)
        #expect(try peer.ack(dealer, budget(id: "b-2022", year: 2022, spending: 5_200_000_000, perPupil: 14_800))[0] == "ok")
        #expect(try peer.ack(dealer, budget(id: "b-2023", year: 2023, spending: 5_100_000_000, perPupil: 15_000))[0] == "ok")
        let alert = try #require(try sub.receive(within: 30).flatMap(Published.init))
        #expect(alert.string("fingerprint") == "finance.spending_decreased/370300/education_spending/2023")
        #expect(alert.string("level") == "orange")
        // The plugin validates its own event type.
        var bad = String(decoding: budget(id: "b-bad", year: 2024, spending: 1, perPupil: 1).body, as: UTF8.self)
        bad = bad.replacingOccurrences(of: "\"year\":2024", with: "\"year\":\"2024\"")
        let rejected = try peer.ack(dealer, (Array("finance.budget.370300".utf8), Array(bad.utf8)))
        #expect(rejected[0] == "rejected" && rejected[2].contains("payload.year"))
        #expect(try daemon.terminate() == 0)

        // Its state survives a restart (it is checkpointed through the plugin ABI).
        let again = try DaemonProcess(
            journal: dir.path + "/j.sqlite", extraArguments: ["--plugin-dir", plugins], logPath: dir.path + "/d2.log")
        let sub2 = try peer.subscriber(to: again.publish, prefixes: ["alert.finance"], probeAck: again.ack)
        let dealer2 = try peer.dealer(to: again.ack)
        #expect(try peer.ack(dealer2, budget(id: "b-2023-fix", year: 2023, spending: 5_300_000_000, perPupil: 15_000))[0] == "ok")
        let resolved = try #require(try sub2.receive(within: 30).flatMap(Published.init))
        #expect(resolved.string("status") == "resolved")
        #expect(try again.terminate() == 0)
    }

    /// A shared library claiming another HandlerKit version, built with the system's C compiler.
    func foreignPlugin(in directory: String) throws -> String {
        let source = directory + "/old.c"
        try """
            const char *planwatch_plugin_handlerkit_version(void) { return "0.9.0"; }
            void *planwatch_plugin_call(int op, void *i, const unsigned char *in, long n, unsigned char **out, long *m) { return 0; }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let library = directory + "/libOldPlugin.so"
        let cc = try run("/usr/bin/cc", ["-shared", "-fPIC", "-o", library, source])
        #expect(cc.status == 0, "\(cc.stderr)")
        return library
    }

    @Test func aPluginBuiltAgainstAnotherHandlerKitIsRefusedNamingBothVersions() throws {
        let dir = TemporaryDirectory()
        let plugins = dir.path + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        _ = try foreignPlugin(in: plugins)
        try FileManager.default.removeItem(atPath: plugins + "/old.c")
        // Not required: logged, and the built-in handlers go on.
        let daemon = try DaemonProcess(journal: dir.path + "/j.sqlite", extraArguments: ["--plugin-dir", plugins], logPath: dir.path + "/d.log")
        #expect(daemon.log.contains("built against HandlerKit 0.9.0, but this daemon has HandlerKit 1.3.0"))
        let peer = Peer()
        let dealer = try peer.dealer(to: daemon.ack)
        #expect(try peer.ack(dealer, Fixtures.incident(id: "still-works"))[0] == "ok")
        #expect(try daemon.terminate() == 0)
        // Required: the start fails with that message.
        let result = try run(
            Products.path("planwatchd"),
            ["--journal", dir.path + "/j2.sqlite", "--plugin-dir", plugins, "--require-plugin", "OldPlugin", "--http-bind", "off"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("required plugin") && result.stderr.contains("HandlerKit 0.9.0"), "\(result.stderr)")
    }
}
