// A local Neo4j 5.26 (community, embedded) with Bolt on 127.0.0.1:PORT, for dealgraph's tests
// and for users trying the backend out (`dealgraph neo4j serve`). Not a production server:
// authentication is disabled (unless a password is given, below) and only the loopback interface is bound.
//
// dealgraph compiles it once into its cache (neo4j_backend/java.py, with the Eclipse compiler, so a Java
// runtime without javac will do) and runs it with the jars pinned in jars.txt:
//   java -Xmx2g <--add-opens flags, see neo4j_backend/server.py> -cp 'lib/*:CLASSES' Launcher PORT [DATA_DIR]
//
// Authentication is disabled unless the environment variable DEALGRAPH_NEO4J_PASSWORD is set: then
// it is enabled and user "neo4j" gets that password (an environment variable, not an argument, so
// it does not show in the process list). The tests use this to check wrong-password handling.
//
// DEALGRAPH_NEO4J_PAGECACHE sets the page cache size (default 256m).
//
// With DEALGRAPH_NEO4J_TLS_DIR=DIR (public.crt and private.key in PEM there) Bolt requires TLS.
//
// With DEALGRAPH_NEO4J_WATCH_STDIN=1 it also shuts down when its standard input reaches end of file
// (dealgraph starts it with a pipe, so the server never outlives the Python process that started it).
//
// Prints exactly one line "DEALGRAPH-NEO4J READY bolt://127.0.0.1:PORT" on stdout once Bolt accepts
// connections, then waits. SIGTERM / SIGINT (Ctrl-C) shut the database down cleanly through a
// shutdown hook, after which the line "DEALGRAPH-NEO4J STOPPED" is printed.
//
// Settings are given by their configuration names (through a config file) on purpose: Neo4j 5
// validates names strictly and refuses to start on an unknown one, so a misspelt setting fails
// loudly instead of being ignored.

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.Transaction;

public class Launcher {
    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: java -cp 'lib/*:CLASSES' Launcher PORT [DATA_DIR]");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        Path home = args.length == 2 ? Path.of(args[1]) : Files.createTempDirectory("dealgraph-neo4j-");
        boolean temporary = args.length < 2;
        Files.createDirectories(home);

        Map<String, String> config = new LinkedHashMap<>();
        config.put("server.bolt.enabled", "true");
        config.put("server.bolt.listen_address", "127.0.0.1:" + port);
        config.put("server.bolt.advertised_address", "127.0.0.1:" + port);
        // Bolt TLS: DEALGRAPH_NEO4J_TLS_DIR holds public.crt and private.key (PEM; the tests make a
        // self-signed pair). TLS is then required: a plain bolt:// connection is refused.
        String tlsDir = System.getenv("DEALGRAPH_NEO4J_TLS_DIR");
        boolean tls = tlsDir != null && !tlsDir.isEmpty();
        config.put("server.bolt.tls_level", tls ? "REQUIRED" : "DISABLED");
        if (tls) {
            Path base = Path.of(tlsDir).toAbsolutePath();
            Files.createDirectories(base.resolve("trusted"));
            Files.createDirectories(base.resolve("revoked"));
            config.put("dbms.ssl.policy.bolt.enabled", "true");
            config.put("dbms.ssl.policy.bolt.base_directory", base.toString());
            config.put("dbms.ssl.policy.bolt.private_key", "private.key");
            config.put("dbms.ssl.policy.bolt.public_certificate", "public.crt");
            config.put("dbms.ssl.policy.bolt.client_auth", "NONE");
        }
        String password = System.getenv("DEALGRAPH_NEO4J_PASSWORD");
        boolean auth = password != null && !password.isEmpty();
        config.put("dbms.security.auth_enabled", auth ? "true" : "false");
        String pageCache = System.getenv("DEALGRAPH_NEO4J_PAGECACHE");
        config.put("server.memory.pagecache.size", pageCache != null && !pageCache.isEmpty() ? pageCache : "256m");
        config.put("dbms.usage_report.enabled", "false");
        // Keep transaction logs small: this is a scratch/test database.
        config.put("db.tx_log.rotation.retention_policy", "2 files");
        // Netty waits a 5 s quiet period per event loop group on shutdown (10 s in all); a scratch
        // server whose clients are gone has nothing to wait for.
        config.put("internal.dbms.bolt.netty_server_shutdown_quiet_period", "0");

        // Written as a config file and loaded by name so Neo4j's strict validation checks every name.
        Path conf = home.resolve("dealgraph-neo4j.conf");
        StringBuilder text = new StringBuilder();
        config.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Files.writeString(conf, text.toString());
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .loadPropertiesFromFile(conf)
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                dbms.shutdown();
                if (temporary) {
                    deleteTree(home);
                }
                System.out.println("DEALGRAPH-NEO4J STOPPED");
                System.out.flush();
            } finally {
                stopped.countDown();
            }
        }, "dealgraph-neo4j-shutdown"));

        if (auth) {
            GraphDatabaseService system = dbms.database("system");
            try (Transaction tx = system.beginTx()) {
                tx.execute("ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password)).close();
                tx.commit();
            }
        }
        // The default database is available once this query runs; Bolt is bound by then.
        GraphDatabaseService db = dbms.database("neo4j");
        try (Transaction tx = db.beginTx()) {
            tx.execute("RETURN 1").close();
            tx.commit();
        }
        System.out.println("DEALGRAPH-NEO4J READY bolt://127.0.0.1:" + port + " data=" + home.toAbsolutePath());
        System.out.flush();
        if ("1".equals(System.getenv("DEALGRAPH_NEO4J_WATCH_STDIN"))) {
            // Started by dealgraph through a pipe: when the parent dies (even by SIGKILL) the pipe
            // closes and the server shuts down instead of being left running.
            Thread watcher = new Thread(() -> {
                try {
                    while (System.in.read() != -1) {
                        // ignore input
                    }
                } catch (java.io.IOException e) {
                    // treat like end of input
                }
                System.exit(0);  // runs the shutdown hook
            }, "dealgraph-neo4j-parent-watch");
            watcher.setDaemon(true);
            watcher.start();
        }
        stopped.await();
    }

    private static void deleteTree(Path root) {
        try (var paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (Exception e) {
            // Best effort: a temp directory left behind is harmless.
        }
    }
}
