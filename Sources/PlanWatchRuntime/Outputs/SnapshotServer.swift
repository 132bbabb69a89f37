import Foundation
import Logging
import PlanWatchModel
import ZeroMQ

/// The snapshot ROUTER of CONTRACT.md (the ZeroMQ guide's Clone pattern): on
/// `["snapshot", prefix]` it sends one `[topic, body]` per current indicator and firing
/// alert under `prefix`, then `["end", seq]`. A REQ peer, which takes one reply only, gets
/// them all in one message: `[topic, body, …, "end", seq]`.
final class SnapshotServer {
    private let socket: ZMQSocket
    private let store: OutputStore
    private let stopFlag: StopFlag
    private let logger: Logger
    let bound: [String]

    init(config: RuntimeConfig, context: ZMQContext, store: OutputStore, stopFlag: StopFlag, logger: Logger) throws {
        socket = try ZMQSocket(context: context, type: .router)
        try socket.set(.sendHighWaterMark(0))
        try socket.set(.maxMessageSize(4096))
        if let curve = config.curve { try socket.makeCurveServer(secretKey: curve.secretKey) }
        var bound: [String] = []
        for endpoint in config.snapshotBind {
            try socket.bind(endpoint)
            bound.append(socket.lastEndpoint)
        }
        self.bound = bound
        self.store = store
        self.stopFlag = stopFlag
        self.logger = logger
    }

    func run() {
        var poller = Poller()
        poller.add(socket)
        while !stopFlag.isSet {
            guard (try? poller.poll(timeoutMilliseconds: 100))?[0] == true else { continue }
            while let frames = try? socket.receive(wait: false) {
                guard let (envelope, request) = RouterEnvelope.split(frames) else { continue }
                serve(envelope: envelope, request: request)
            }
        }
        socket.close()
    }

    private func serve(envelope: [[UInt8]], request: [[UInt8]]) {
        guard request.count == 2, request[0] == Array("snapshot".utf8) else {
            _ = try? socket.send(envelope + [Array("error".utf8), Array("expected [\"snapshot\", prefix]".utf8)])
            return
        }
        let prefix = String(decoding: request[1], as: UTF8.self)
        let (entries, seq) = store.snapshot(prefix: prefix)
        let end = [Array("end".utf8), Array(String(seq).utf8)]
        do {
            if envelope.count == 2 {  // REQ: one reply
                try socket.send(envelope + entries.flatMap { [Array($0.topic.utf8), Array($0.body.utf8)] } + end)
            } else {
                for entry in entries { try socket.send(envelope + [Array(entry.topic.utf8), Array(entry.body.utf8)]) }
                try socket.send(envelope + end)
            }
        } catch {
            logger.warning("snapshot reply failed", metadata: ["error": "\(error)"])
        }
    }
}
