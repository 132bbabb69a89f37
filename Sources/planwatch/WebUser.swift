import ArgumentParser
import Foundation
import PlanWatchModel
import HummingbirdBcrypt

/// `NAME: <bcrypt hash>` for the daemon's web config, as `htpasswd -nBC 10 NAME` makes it.
struct WebUser: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web-user",
        abstract: "Print a basic_auth_users line for the daemon's web config (bcrypt, as htpasswd -nBC 10 makes it).",
        discussion: """
            The password is read from PLANWATCH_PASSWORD, or asked for on a terminal, or read as the
            first line of standard input. Put the line under basic_auth_users in the web config file
            (--web-config-file); planwatchd then lets that operator in and records acknowledgements
            under their name.
            """)

    @Argument(help: "The operator's user name (no ':').")
    var name: String

    @Option(help: "bcrypt cost, 10 to 14.")
    var cost: UInt8 = 10

    @Flag(help: "Print {\"name\", \"hash\"} as JSON instead of the YAML line.")
    var json = false

    func validate() throws {
        guard !name.isEmpty, !name.contains(":") else { throw ValidationError("a user name is not empty and has no ':'") }
        guard (10...14).contains(cost) else { throw ValidationError("--cost is 10 to 14") }
    }

    func run() throws {
        let password: String
        if let given = ProcessInfo.processInfo.environment["PLANWATCH_PASSWORD"] {
            password = given
        } else if isatty(STDIN_FILENO) != 0, let typed = getpass("password for \(name): ") {
            password = String(cString: typed)
        } else if let line = readLine() {
            password = line
        } else {
            throw CLIError("no password: set PLANWATCH_PASSWORD, run on a terminal, or pipe it in")
        }
        guard !password.isEmpty else { throw CLIError("the password is empty") }
        let hash = Bcrypt.hash(password, cost: cost)
        emit(json ? JSONWriter.string(.object(["name": .string(name), "hash": .string(hash)])) : "\(name): \(hash)")
    }
}
