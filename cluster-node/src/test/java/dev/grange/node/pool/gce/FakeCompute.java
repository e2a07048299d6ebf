package dev.grange.node.pool.gce;

import static dev.grange.node.pool.gce.FakeComputeWire.BASE;
import static dev.grange.node.pool.gce.FakeComputeWire.JSON;
import static dev.grange.node.pool.gce.FakeComputeWire.body;
import static dev.grange.node.pool.gce.FakeComputeWire.error;
import static dev.grange.node.pool.gce.FakeComputeWire.now;
import static dev.grange.node.pool.gce.FakeComputeWire.query;
import static dev.grange.node.pool.gce.FakeComputeWire.send;
import static dev.grange.node.pool.gce.FakeComputeWire.url;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.grange.node.pool.gce.FakeComputeWire.Answer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Just enough of the Compute Engine REST API v1 for the real google-cloud-compute client: insert,
 * get, delete and the aggregated list of instances, and zone operations (get, wait). An insert
 * answers a RUNNING zone operation; when the operation is done the VM is STAGING, and after the
 * boot delay RUNNING; a delete's operation is done when the VM (and its agent) is gone. Request
 * bodies are parsed and checked like Google does (a missing name, machine type, disk or network
 * interface, a bad label value is a 400 in Google's error format). A request it does not know is
 * logged, answered 501 and kept in {@link #unsupported()}, so a test shows what is missing.
 *
 * <p>Behaviours for tests: QUOTA_EXCEEDED or ZONE_RESOURCE_POOL_EXHAUSTED in the insert
 * operations of some or every zone, the next N calls of a kind failed with a status (or performed
 * and their answer lost), operations delayed or held, a boot delay, VMs that never boot their
 * agent, known images and machine types, an unreachable zone in the list, list pages. Every
 * request is recorded. With {@link FakeAgents}, a VM that goes RUNNING starts a real agent (what
 * the startup script does); its exit 0 (a halt) makes the VM TERMINATED, another exit starts it
 * again; a deleted or stopped VM's agent gets SIGTERM.
 */
public final class FakeCompute implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FakeCompute.class);
  private static final Pattern PATH = Pattern.compile(
      "/compute/v1/projects/([^/]+)/(?:zones/([^/]+)/(instances|operations)(?:/([^/]+))?(/wait)?|(aggregated/instances))");

  /** The kinds of call the fake answers. */
  public enum Call { INSERT, GET_INSTANCE, DELETE, AGGREGATED_LIST, GET_OPERATION, WAIT_OPERATION }

  /**
   * One request as received: {@code call} is null for one the fake does not support; {@code
   * receivedAtMs} is the wall clock when the fake took it (bench/pools counts inserts a second).
   */
  public record Request(Call call, String method, String path, Map<String, String> query, JsonNode body, long receivedAtMs) {
    public Request(Call call, String method, String path, Map<String, String> query, JsonNode body) {
      this(call, method, path, query, body, System.currentTimeMillis());
    }
  }

  private record Fault(int times, int status, String reason, boolean afterHandling) {}

  private final class Vm {
    final String project;
    final String zone;
    final String name;
    final ObjectNode resource;
    final long id = ids.incrementAndGet();
    String status = "PROVISIONING";
    String statusMessage = "";
    boolean deleting;
    Process agent;

    Vm(String project, String zone, String name, ObjectNode resource) {
      this.project = project;
      this.zone = zone;
      this.name = name;
      this.resource = resource;
    }

    Map<String, String> metadata() {
      Map<String, String> m = new LinkedHashMap<>();
      for (JsonNode item : resource.path("metadata").path("items")) {
        m.put(item.path("key").asText(), item.path("value").asText());
      }
      return m;
    }
  }

  private final class Op {
    final String name = "operation-" + System.currentTimeMillis() + "-" + ids.incrementAndGet();
    final String project;
    final String zone;
    final String type;
    final String target;
    final String insertTime = now();
    String status = "RUNNING";
    String endTime = "";
    String errorCode = "";
    String errorMessage = "";
    int httpStatus;

    Op(String project, String zone, String type, String target) {
      this.project = project;
      this.zone = zone;
      this.type = type;
      this.target = target;
    }
  }

  private final HttpServer server;
  private final ExecutorService handlers = Executors.newFixedThreadPool(4, daemon("fake-compute-http"));
  private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1, daemon("fake-compute-timer"));
  private final FakeAgents agents;
  private final AtomicLong ids = new AtomicLong(1_000_000);

  // Everything below is guarded by this.
  private final Map<String, Vm> vms = new TreeMap<>();
  private final Map<String, Op> ops = new HashMap<>();
  private final Map<String, Op> byRequestId = new HashMap<>();
  /** What finishing an operation does (the VM boots, the VM and its agent go), by operation name. */
  private final Map<String, Supplier<CompletableFuture<Void>>> effects = new HashMap<>();
  private final List<Op> held = new ArrayList<>();
  private final List<Request> requests = new ArrayList<>();
  private final Map<Call, List<Fault>> faults = new HashMap<>();
  private final Set<String> zonesSeen = new HashSet<>();
  private Set<String> quotaZones = Set.of();
  private boolean quotaEverywhere;
  private Set<String> exhaustedZones = Set.of();
  private Set<String> images = Set.of();
  private Set<String> machineTypes = Set.of();
  private Set<String> unreachable = Set.of();
  private Duration operationDelay = Duration.ZERO;
  private Duration bootDelay = Duration.ZERO;
  private boolean holding;
  private boolean neverBoots;
  private int pageSize = Integer.MAX_VALUE;
  private boolean closed;

  static {
    // Without TCP_NODELAY every answer waits ~40 ms for the client's delayed ACK (headers and body
    // go out as two segments). Read once, when the JDK's server first starts.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private FakeCompute(FakeAgents agents) throws IOException {
    this.agents = agents;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(handlers);
    server.start();
  }

  /** A fake whose VMs run no agent. */
  public static FakeCompute start() throws IOException {
    return new FakeCompute(null);
  }

  /** A fake whose VMs run a real agent each once RUNNING (unless {@link #neverBoots}). */
  public static FakeCompute start(FakeAgents agents) throws IOException {
    return new FakeCompute(agents);
  }

  /** The base URL for {@code grange.pools.gce.endpoint}: {@code http://127.0.0.1:PORT}. */
  public String endpoint() {
    return "http://" + server.getAddress().getAddress().getHostAddress() + ":" + server.getAddress().getPort();
  }

  // ---- behaviours ----

  /** Inserts in these zones (none named: in every zone) end with QUOTA_EXCEEDED in their operation, as a region's CPU quota does. */
  public synchronized FakeCompute quotaExceeded(String... zones) {
    quotaEverywhere = zones.length == 0;
    quotaZones = Set.of(zones);
    return this;
  }

  /** Inserts succeed again where {@link #quotaExceeded} made them fail. */
  public synchronized FakeCompute quotaRestored() {
    quotaEverywhere = false;
    quotaZones = Set.of();
    return this;
  }

  /** Inserts in these zones end with ZONE_RESOURCE_POOL_EXHAUSTED in their operation. */
  public synchronized FakeCompute exhausted(String... zones) {
    exhaustedZones = Set.of(zones);
    return this;
  }

  /** The next {@code times} calls of {@code call} are answered {@code status} with Google's error body and {@code reason}. */
  public synchronized FakeCompute failNext(Call call, int times, int status, String reason) {
    faults.computeIfAbsent(call, c -> new ArrayList<>()).add(new Fault(times, status, reason, false));
    return this;
  }

  /** The next {@code times} calls of {@code call} are carried out, but their answer is a 503 (a front end that failed after the work). */
  public synchronized FakeCompute loseNextAnswers(Call call, int times) {
    faults.computeIfAbsent(call, c -> new ArrayList<>()).add(new Fault(times, 503, "backendError", true));
    return this;
  }

  /** How long after it is accepted an operation is done. */
  public synchronized FakeCompute operationDelay(Duration d) {
    operationDelay = d;
    return this;
  }

  /** Operations accepted from now on stay RUNNING until {@link #releaseOperations()}. */
  public synchronized FakeCompute holdOperations() {
    holding = true;
    return this;
  }

  /** Finishes every held operation now and holds no more. */
  public FakeCompute releaseOperations() {
    List<Op> release;
    synchronized (this) {
      holding = false;
      release = new ArrayList<>(held);
      held.clear();
    }
    release.forEach(this::finish);
    return this;
  }

  /** How long a VM stays STAGING after its insert is done before it is RUNNING. */
  public synchronized FakeCompute bootDelay(Duration d) {
    bootDelay = d;
    return this;
  }

  /** VMs go RUNNING but their agent never starts (a broken image). */
  public synchronized FakeCompute neverBoots(boolean never) {
    neverBoots = never;
    return this;
  }

  /** Only these source images exist (others: 404 as Google answers); none named: any. */
  public synchronized FakeCompute onlyImages(String... sourceImages) {
    images = Set.of(sourceImages);
    return this;
  }

  /** Only these machine types exist in any zone (others: 400); none named: any. */
  public synchronized FakeCompute onlyMachineTypes(String... types) {
    machineTypes = Set.of(types);
    return this;
  }

  /** The aggregated list says these zones could not be reached. */
  public synchronized FakeCompute unreachable(String... zones) {
    unreachable = Set.of(zones);
    zonesSeen.addAll(unreachable);
    return this;
  }

  /** The aggregated list answers at most {@code n} VMs a page. */
  public synchronized FakeCompute pageSize(int n) {
    pageSize = n;
    return this;
  }

  /**
   * Sets a VM's status as GCE would (a host error TERMINATEs it): RUNNING starts its agent, any
   * other status stops it.
   */
  public void setStatus(String name, String status, String message) {
    Vm vm;
    synchronized (this) {
      vm = find(name).orElseThrow(() -> new IllegalArgumentException("no VM " + name));
      vm.statusMessage = message;
    }
    transition(vm, status);
  }

  // ---- observations ----

  public synchronized List<Request> requests() {
    return List.copyOf(requests);
  }

  public synchronized List<Request> requests(Call call) {
    return requests.stream().filter(r -> r.call() == call).toList();
  }

  /** Requests the fake does not support (answered 501): a test expects none. */
  public synchronized List<Request> unsupported() {
    return requests.stream().filter(r -> r.call() == null).toList();
  }

  /** Waits until {@code n} calls of {@code call} have come; false when they have not by {@code timeout}. */
  public synchronized boolean awaitRequests(Call call, int n, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (requests(call).size() < n) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  /** Waits until the VM runs an agent; empty when it does not by {@code timeout}. */
  public synchronized Optional<ProcessHandle> awaitAgent(String name, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (agent(name).isEmpty()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return Optional.empty();
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return agent(name);
  }

  /** A VM as a GET of it answers, if it exists. */
  public synchronized Optional<JsonNode> instance(String name) {
    return find(name).map(this::json);
  }

  /** The agent process of a VM, while it runs one. */
  public synchronized Optional<ProcessHandle> agent(String name) {
    return find(name).map(vm -> vm.agent).filter(Process::isAlive).map(Process::toHandle);
  }

  @Override
  public void close() {
    List<Process> running = new ArrayList<>();
    synchronized (this) {
      closed = true;
      vms.values().stream().map(vm -> vm.agent).filter(p -> p != null).forEach(running::add);
    }
    server.stop(0);
    if (agents != null) {
      CompletableFuture.allOf(running.stream().map(agents::stop).toArray(CompletableFuture[]::new)).join();
    }
    timers.shutdownNow();
    handlers.shutdownNow();
  }

  // ---- the API ----

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      long receivedAtMs = System.currentTimeMillis();
      String path = ex.getRequestURI().getRawPath();
      Map<String, String> query = query(ex.getRequestURI().getRawQuery());
      JsonNode body;
      try {
        body = body(ex.getRequestBody());
      } catch (JsonProcessingException e) {
        send(ex, 400, error(400, "Invalid JSON payload received. " + e.getOriginalMessage(), "parseError"));
        return;
      }
      Matcher m = PATH.matcher(path);
      Call call = m.matches() ? call(ex.getRequestMethod(), m) : null;
      Fault fault;
      synchronized (this) {
        requests.add(new Request(call, ex.getRequestMethod(), path, query, body, receivedAtMs));
        notifyAll();
        fault = call == null ? null : nextFault(call);
      }
      if (call == null) {
        log.warn("FakeCompute does not support {} {}: answering 501", ex.getRequestMethod(), ex.getRequestURI());
        send(ex, 501, error(501, "FakeCompute does not support " + ex.getRequestMethod() + " " + path, "notImplemented"));
        return;
      }
      if (fault != null && !fault.afterHandling()) {
        send(ex, fault.status(), error(fault.status(), "injected failure", fault.reason()));
        return;
      }
      String project = m.group(1);
      String zone = m.group(2);
      Answer a = switch (call) {
        case INSERT -> insert(project, zone, query.getOrDefault("requestId", ""), body);
        case GET_INSTANCE -> getInstance(project, zone, m.group(4));
        case DELETE -> delete(project, zone, m.group(4), query.getOrDefault("requestId", ""));
        case GET_OPERATION -> getOperation(m.group(4), false);
        case WAIT_OPERATION -> getOperation(m.group(4), true);
        case AGGREGATED_LIST -> list(project, query.getOrDefault("filter", ""), query.getOrDefault("pageToken", ""));
      };
      if (fault != null) {
        send(ex, fault.status(), error(fault.status(), "injected failure after the work was done", fault.reason()));
        return;
      }
      send(ex, a.status(), a.body());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.error("FakeCompute failed on {} {}", ex.getRequestMethod(), ex.getRequestURI(), e);
      send(ex, 500, error(500, "FakeCompute: " + e, "backendError"));
    }
  }

  private static Call call(String method, Matcher m) {
    if (m.group(6) != null) {
      return method.equals("GET") ? Call.AGGREGATED_LIST : null;
    }
    boolean one = m.group(4) != null;
    boolean wait = m.group(5) != null;
    if (m.group(3).equals("instances") && !wait) {
      return switch (method) {
        case "POST" -> one ? null : Call.INSERT;
        case "GET" -> one ? Call.GET_INSTANCE : null;
        case "DELETE" -> one ? Call.DELETE : null;
        default -> null;
      };
    }
    if (m.group(3).equals("operations") && one) {
      return wait ? (method.equals("POST") ? Call.WAIT_OPERATION : null) : (method.equals("GET") ? Call.GET_OPERATION : null);
    }
    return null;
  }

  private Answer insert(String project, String zone, String requestId, JsonNode body) {
    Op op;
    Vm vm = null;
    synchronized (this) {
      zonesSeen.add(zone);
      Op again = byRequestId.get(requestId);
      if (again != null) {
        return new Answer(200, json(again));
      }
      Answer bad = FakeComputeChecks.insert(project, zone, body, images, machineTypes);
      if (bad != null) {
        return bad;
      }
      String name = body.get("name").asText();
      if (vms.containsKey(key(project, zone, name))) {
        String res = "projects/" + project + "/zones/" + zone + "/instances/" + name;
        return new Answer(409, error(409, "The resource '" + res + "' already exists", "alreadyExists"));
      }
      op = new Op(project, zone, "insert", name);
      if (quotaEverywhere || quotaZones.contains(zone)) {
        String region = zone.replaceFirst("-[a-z]$", "");
        fail(op, "QUOTA_EXCEEDED", "Quota 'CPUS' exceeded.  Limit: 8.0 in region " + region + ".", 403);
      } else if (exhaustedZones.contains(zone)) {
        fail(op, "ZONE_RESOURCE_POOL_EXHAUSTED", "The zone 'projects/" + project + "/zones/" + zone
            + "' does not have enough resources available to fulfill the request.  Try a different zone, or try again later.", 503);
      } else {
        vm = new Vm(project, zone, name, ((ObjectNode) body).deepCopy());
        vm.resource.put("creationTimestamp", now());
        vms.put(key(project, zone, name), vm);
      }
      remember(op, requestId);
    }
    JsonNode answer = json(op);
    Vm made = vm;
    schedule(op, () -> {
      if (made != null) {
        staged(made);
      }
      return CompletableFuture.completedFuture(null);
    });
    return new Answer(200, answer);
  }

  private Answer getInstance(String project, String zone, String name) {
    synchronized (this) {
      Vm vm = vms.get(key(project, zone, name));
      return vm == null ? notFound(project, zone, name) : new Answer(200, json(vm));
    }
  }

  private Answer delete(String project, String zone, String name, String requestId) {
    Op op;
    Vm vm;
    synchronized (this) {
      Op again = byRequestId.get(requestId);
      if (again != null) {
        return new Answer(200, json(again));
      }
      vm = vms.get(key(project, zone, name));
      if (vm == null) {
        return notFound(project, zone, name);
      }
      op = new Op(project, zone, "delete", name);
      remember(op, requestId);
      vm.deleting = true;
      vm.status = "STOPPING";
    }
    JsonNode answer = json(op);
    schedule(op, () -> stopAgent(vm).thenRun(() -> {
      synchronized (this) {
        vms.remove(key(project, zone, name));
      }
    }));
    return new Answer(200, answer);
  }

  private Answer getOperation(String name, boolean wait) throws InterruptedException {
    synchronized (this) {
      Op op = ops.get(name);
      if (op == null) {
        return new Answer(404, error(404, "The resource 'operations/" + name + "' was not found", "notFound"));
      }
      // Google's wait answers when the operation is done or after about two minutes.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(wait ? 30 : 0);
      while (wait && !op.status.equals("DONE") && System.nanoTime() < deadline && !closed) {
        TimeUnit.NANOSECONDS.timedWait(this, deadline - System.nanoTime());
      }
      return new Answer(200, json(op));
    }
  }

  private synchronized Answer list(String project, String filter, String pageToken) {
    List<String[]> terms = FakeComputeWire.filter(filter);
    if (terms == null) {
      log.warn("FakeCompute does not understand the filter [{}]", filter);
      return new Answer(400, error(400, "Invalid list filter expression '" + filter + "'.", "invalid"));
    }
    List<Vm> matching = vms.values().stream()
        .filter(vm -> vm.project.equals(project) && FakeComputeWire.matches(vm.resource.path("labels"), terms)).toList();
    int from = pageToken.isEmpty() ? 0 : Integer.parseInt(pageToken);
    int to = (int) Math.min(matching.size(), (long) from + pageSize);
    Map<String, ArrayNode> byZone = new TreeMap<>();
    for (String z : zonesSeen) {
      byZone.put(z, JSON.createArrayNode());
    }
    for (Vm vm : matching.subList(from, to)) {
      byZone.computeIfAbsent(vm.zone, z -> JSON.createArrayNode()).add(json(vm));
    }
    return new Answer(200, FakeComputeWire.aggregatedList(project, byZone, unreachable, to < matching.size() ? Integer.toString(to) : ""));
  }

  // ---- lifecycle ----

  /** Finishes {@code op} after the operation delay, or when released if operations are held. */
  private void schedule(Op op, Supplier<CompletableFuture<Void>> effect) {
    synchronized (this) {
      effects.put(op.name, effect);
      if (holding) {
        held.add(op);
        return;
      }
    }
    timers.schedule(() -> finish(op), operationDelay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void finish(Op op) {
    Supplier<CompletableFuture<Void>> effect;
    synchronized (this) {
      effect = effects.remove(op.name);
    }
    CompletableFuture<Void> done = effect == null || !op.errorCode.isEmpty() ? CompletableFuture.completedFuture(null) : effect.get();
    done.whenComplete((x, e) -> {
      synchronized (this) {
        op.status = "DONE";
        op.endTime = now();
        notifyAll();
      }
    });
  }

  private void staged(Vm vm) {
    Duration delay;
    synchronized (this) {
      if (vm.deleting) {
        return;
      }
      vm.status = "STAGING";
      delay = bootDelay;
    }
    timers.schedule(() -> transition(vm, "RUNNING"), delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Moves a VM to {@code status}: RUNNING boots its agent, anything else stops it. */
  private void transition(Vm vm, String status) {
    boolean boot;
    synchronized (this) {
      if (vm.deleting || closed) {
        return;
      }
      vm.status = status;
      boot = status.equals("RUNNING") && agents != null && !neverBoots && vm.agent == null;
    }
    if (boot) {
      bootAgent(vm);
    } else if (!status.equals("RUNNING")) {
      stopAgent(vm);
    }
  }

  private void bootAgent(Vm vm) {
    try {
      Process p = agents.start(vm.name, vm.metadata());
      synchronized (this) {
        vm.agent = p;
        notifyAll();
      }
      p.onExit().thenAccept(done -> agentExited(vm, done));
    } catch (IOException e) {
      log.error("Fake VM [{}]: cannot start its agent", vm.name, e);
    }
  }

  /** What the startup script does: an agent that halted (exit 0) powers the VM off; another exit starts it again. */
  private void agentExited(Vm vm, Process p) {
    synchronized (this) {
      if (vm.agent != p) {
        return;
      }
      vm.agent = null;
      if (vm.deleting || closed || !vm.status.equals("RUNNING")) {
        return;
      }
      if (p.exitValue() == 0) {
        vm.status = "TERMINATED";
        vm.statusMessage = "the agent halted the machine";
        return;
      }
    }
    log.info("Fake VM [{}]: agent exited with status {}; starting it again", vm.name, p.exitValue());
    timers.schedule(() -> transition(vm, "RUNNING"), 1, TimeUnit.SECONDS);
  }

  private CompletableFuture<Void> stopAgent(Vm vm) {
    Process p;
    synchronized (this) {
      p = vm.agent;
      vm.agent = null;
    }
    return p == null || agents == null ? CompletableFuture.completedFuture(null) : agents.stop(p);
  }

  // ---- JSON ----

  private JsonNode json(Op op) {
    synchronized (this) {
      String zoneUrl = BASE + "projects/" + op.project + "/zones/" + op.zone;
      ObjectNode j = JSON.createObjectNode().put("kind", "compute#operation").put("id", Long.toString(op.name.hashCode() & 0xffffffffL))
          .put("name", op.name).put("zone", zoneUrl).put("operationType", op.type)
          .put("targetLink", zoneUrl + "/instances/" + op.target).put("status", op.status).put("user", "fake@grange.dev")
          .put("progress", op.status.equals("DONE") ? 100 : 0).put("insertTime", op.insertTime).put("startTime", op.insertTime)
          .put("selfLink", zoneUrl + "/operations/" + op.name);
      if (!op.endTime.isEmpty()) {
        j.put("endTime", op.endTime);
      }
      if (op.status.equals("DONE") && !op.errorCode.isEmpty()) {
        j.putObject("error").putArray("errors").addObject().put("code", op.errorCode).put("message", op.errorMessage);
        j.put("httpErrorStatusCode", op.httpStatus).put("httpErrorMessage", op.httpStatus == 403 ? "FORBIDDEN" : "SERVICE UNAVAILABLE");
      }
      return j;
    }
  }

  private JsonNode json(Vm vm) {
    synchronized (this) {
      String zoneUrl = BASE + "projects/" + vm.project + "/zones/" + vm.zone;
      ObjectNode j = vm.resource.deepCopy();
      j.put("kind", "compute#instance").put("id", Long.toString(vm.id)).put("zone", zoneUrl)
          .put("machineType", url(vm.project, j.path("machineType").asText()))
          .put("status", vm.status).put("selfLink", zoneUrl + "/instances/" + vm.name);
      if (!vm.statusMessage.isEmpty()) {
        j.put("statusMessage", vm.statusMessage);
      }
      return j;
    }
  }

  // ---- helpers ----

  private Fault nextFault(Call call) {
    List<Fault> list = faults.getOrDefault(call, List.of());
    if (list.isEmpty()) {
      return null;
    }
    Fault f = list.get(0);
    if (f.times() <= 1) {
      list.remove(0);
    } else {
      list.set(0, new Fault(f.times() - 1, f.status(), f.reason(), f.afterHandling()));
    }
    return f;
  }

  private void fail(Op op, String code, String message, int httpStatus) {
    op.errorCode = code;
    op.errorMessage = message;
    op.httpStatus = httpStatus;
  }

  private void remember(Op op, String requestId) {
    ops.put(op.name, op);
    if (!requestId.isEmpty()) {
      byRequestId.put(requestId, op);
    }
  }

  private Optional<Vm> find(String name) {
    return vms.values().stream().filter(vm -> vm.name.equals(name)).findFirst();
  }

  private static Answer notFound(String project, String zone, String name) {
    return FakeComputeWire.notFound("projects/" + project + "/zones/" + zone + "/instances/" + name);
  }

  private static String key(String project, String zone, String name) {
    return project + "/" + zone + "/" + name;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
