import ArgumentParser
import Foundation
import PlanWatchModel
import ZeroMQ

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a CURVE key pair: NAME.public (Z85) and NAME.secret (Z85, mode 0600).",
        discussion: """
            The daemon's pair goes in its config as curve.secretKeyFile; each client's public key
            goes in curve.clients with the topic prefixes it may publish. Existing files are not
            overwritten.
            """)

    @Argument(help: "The key's name, e.g. planwatchd or safety-platform.")
    var name: String

    @Option(help: "Directory to write the files in (created if missing).")
    var dir = "var/keys"

    @Flag(help: "Print {\"name\", \"publicKey\", \"publicKeyFile\", \"secretKeyFile\"} as JSON.")
    var json = false

    func run() throws {
        let keys = try CurveKeyPair.generate()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let secretPath = "\(dir)/\(name).secret"
        let publicPath = "\(dir)/\(name).public"
        try write(keys.secretKey + "\n", to: secretPath, mode: 0o600)
        try write(keys.publicKey + "\n", to: publicPath, mode: 0o644)
        if json {
            emit(JSONWriter.string(.object(JSONObject([
                ("name", .string(name)), ("publicKey", .string(keys.publicKey)), ("publicKeyFile", .string(publicPath)),
                ("secretKeyFile", .string(secretPath)),
            ]))))
        } else {
            print("public key \(keys.publicKey)")
            print("wrote \(publicPath) and \(secretPath) (mode 0600)")
        }
    }

    /// Creates the file with its mode from the start (never readable by others, not even briefly).
    private func write(_ text: String, to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else {
            throw CLIError("cannot create \(path): \(String(cString: strerror(errno)))\(errno == EEXIST ? " (it exists; keys are never overwritten)" : "")")
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard Foundation.write(fd, bytes, bytes.count) == bytes.count else { throw CLIError("cannot write \(path)") }
        fchmod(fd, mode)  // umask may have cleared bits of the public key's mode
    }
}
