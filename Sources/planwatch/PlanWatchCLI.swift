import ArgumentParser
import Foundation
import PlanWatchModel
import ZeroMQ

@main
struct PlanWatchCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "planwatch",
        abstract: "PlanWatch's command line: publish events, watch alerts, check files offline.",
        version: PlanWatchVersion.current,
        subcommands: [
            Publish.self, Tail.self, Check.self, CheckPlan.self, Simulate.self, ReplayCommand.self, Keygen.self, Bench.self,
            ProxyCommand.self, CheckCalendar.self, CheckConfig.self, Ack.self, History.self, Explain.self, WebUser.self,
        ])
}

/// Where the daemon listens; defaults are CONTRACT.md's. The daemon's endpoints and CURVE keys. Each defaults to its `PLANWATCH_*` environment
/// variable, then to the client config file (``ClientConfig``), then to the embedded default.
struct Endpoints: ParsableArguments {
    @Option(name: .customLong("ingest-endpoint"), help: "The daemon's fire-and-forget ingest endpoint (its SUB; PLANWATCH_INGEST_ENDPOINT).")
    var ingest = ClientConfig.value("ingestEndpoint", default: "tcp://127.0.0.1:5550")

    @Option(name: .customLong("ack-endpoint"), help: "The daemon's acknowledged ingest endpoint (its ROUTER; PLANWATCH_ACK_ENDPOINT).")
    var ack = ClientConfig.value("ackEndpoint", default: "tcp://127.0.0.1:5551")

    @Option(name: .customLong("output-endpoint"), help: "The daemon's output endpoint (its PUB; PLANWATCH_OUTPUT_ENDPOINT).")
    var output = ClientConfig.value("outputEndpoint", default: "tcp://127.0.0.1:5560")

    @Option(name: .customLong("server-key"), help: "With CURVE: the daemon's public key, or a file holding it (PLANWATCH_SERVER_KEY).")
    var serverKeyFlag: String?

    @Option(name: .customLong("key-file"), help: "With CURVE: this client's secret key file, written by 'planwatch keygen' (PLANWATCH_KEY_FILE).")
    var keyFileFlag: String?

    var serverKey: String? { serverKeyFlag ?? ClientConfig.value("serverKey") }
    var keyFile: String? { keyFileFlag ?? ClientConfig.value("keyFile") }

    func validate() throws { try ClientConfig.check() }

    /// The client's CURVE settings, when --server-key is given.
    func curve() throws -> ClientCurve? {
        guard let serverKey else { return nil }
        guard let keyFile else { throw CLIError("--server-key needs --key-file (this client's secret key)") }
        func read(_ value: String) -> String {
            guard let data = FileManager.default.contents(atPath: value) else { return value }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let server = read(serverKey)
        guard CurveKeyPair.isValidKey(server) else { throw CLIError("--server-key is not a Z85 key nor a file holding one") }
        guard let pair = CurveKeyPair(secretKey: read(keyFile)) else { throw CLIError("\(keyFile) does not hold a Z85 secret key") }
        return ClientCurve(keys: pair, serverKey: server)
    }
}

/// A CLI socket's CURVE client settings.
struct ClientCurve {
    let keys: CurveKeyPair
    let serverKey: String

    func apply(to socket: ZMQSocket) throws { try socket.makeCurveClient(keys: keys, serverKey: serverKey) }
}
