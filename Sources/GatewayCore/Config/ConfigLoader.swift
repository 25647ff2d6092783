import Foundation
import TOMLKit

/// Turns `gateway.conf` into a `GatewayConfiguration` in three steps (parse TOML, decode sections while
/// collecting every issue, check cross-section rules and referenced files), or into a `ConfigError`
/// that lists every problem with its key path. Used alike by `check`, `serve` and reload.
public struct ConfigLoader: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Loads and validates a file. `file` is used in messages as written.
    public func load(file: String) -> Result<GatewayConfiguration, ConfigError> {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            let reason =
                FileManager.default.fileExists(atPath: file) ? "cannot be read as UTF-8 text" : "does not exist"
            return .failure(ConfigError(file: file, issues: [ConfigIssue(path: "", message: "the file \(reason)")]))
        }
        return parse(text: text, file: file, checkFiles: true)
    }

    /// Parses config text. With `checkFiles`, the files it names (keys, certificates) must be readable;
    /// relative paths are relative to the working directory, as for every other command-line tool.
    public func parse(
        text: String, file: String = "gateway.conf", checkFiles: Bool = false
    )
        -> Result<GatewayConfiguration, ConfigError>
    {
        if let problem = TOMLPreflight.firstProblem(text) {
            let issue = ConfigIssue(path: "", message: "TOML syntax error: \(problem.message)", line: problem.line)
            return .failure(ConfigError(file: file, issues: [issue]))
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let issue = ConfigIssue(
                path: "", message: "TOML syntax error: \(error.description)", line: error.source.begin.line)
            return .failure(ConfigError(file: file, issues: [issue]))
        } catch {
            return .failure(
                ConfigError(file: file, issues: [ConfigIssue(path: "", message: "TOML syntax error: \(error)")]))
        }
        guard case .table(let entries) = ConfigValue(table) else {
            return .failure(ConfigError(file: file, issues: [ConfigIssue(path: "", message: "not a TOML document")]))
        }
        let issues = ConfigReader.Issues()
        let root = ConfigReader(
            path: "", table: entries, issues: issues, interpolation: EnvironmentInterpolation(environment: environment))
        let config = GatewayConfiguration.decode(root)
        // An app entry that failed to decode was reported already; "no app at all" would only repeat it.
        let appEntryFailed = issues.list.contains { $0.path.hasPrefix("wechat.apps[") }
        var all = issues.list + config.crossCheck().filter { !(appEntryFailed && $0.path == "wechat.apps") }
        if checkFiles {
            all += Self.checkFiles(config)
            if all.isEmpty, case .failure(let keyErrors) = config.tokens.makeKeyRing() {
                all += keyErrors.issues
            }
        }
        return all.isEmpty ? .success(config) : .failure(ConfigError(file: file, issues: all))
    }

    /// Referenced files must exist and be readable when the config is loaded, not at the first request.
    static func checkFiles(_ config: GatewayConfiguration) -> [ConfigIssue] {
        var files: [(path: String, file: String)] = []
        if let tls = config.server.tls {
            files += [("server.tls_certificate", tls.certificate), ("server.tls_private_key", tls.privateKey)]
        }
        switch config.tokens.signingKey {
        case .privateKeyFile(let file), .publicKeyFile(let file): files.append(("tokens.private_key", file))
        case .secret: break
        }
        for key in config.tokens.previousKeys {
            switch key.source {
            case .privateKeyFile(let file): files.append(("\(key.path).private_key", file))
            case .publicKeyFile(let file): files.append(("\(key.path).public_key", file))
            case .secret: break
            }
        }
        for route in config.routes {
            if let ca = route.caFile { files.append(("routes[\(route.index)].ca_file", ca)) }
        }
        let unreadable = files.compactMap { entry in
            FileManager.default.isReadableFile(atPath: entry.file)
                ? nil
                : ConfigIssue(path: entry.path, message: "file \"\(entry.file)\" does not exist or is not readable")
        }
        // A readable but unusable certificate or key (not PEM, key not matching) is caught here, not at bind.
        guard unreadable.isEmpty, let tls = config.server.tls else { return unreadable }
        return TLSContextBox.issues(for: tls)
    }

}
