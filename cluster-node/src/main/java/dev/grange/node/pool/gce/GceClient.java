package dev.grange.node.pool.gce;

import com.google.api.gax.core.CredentialsProvider;
import com.google.api.gax.core.FixedCredentialsProvider;
import com.google.api.gax.longrunning.OperationFuture;
import com.google.api.gax.longrunning.OperationSnapshot;
import com.google.api.gax.longrunning.OperationTimedPollAlgorithm;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.rpc.StatusCode;
import com.google.api.gax.rpc.UnaryCallSettings;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.cloud.compute.v1.DeleteInstanceRequest;
import com.google.cloud.compute.v1.InsertInstanceRequest;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.InstancesSettings;
import com.google.cloud.compute.v1.Operation;
import dev.grange.node.pool.cloud.ProviderException;
import dev.grange.node.pool.cloud.ProviderException.Kind;
import dev.grange.node.pool.gce.GceProvider.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How {@link GceProvider} uses the google-cloud-compute client: the client's retry and polling
 * settings, its credentials, and waiting for a long-running operation on a blocking thread.
 */
final class GceClient {
  private GceClient() {}

  /** How long one HTTP call may take; the operation it starts has its own timeout. */
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);
  private static final Set<StatusCode.Code> RETRYABLE =
      EnumSet.of(StatusCode.Code.INTERNAL, StatusCode.Code.UNAVAILABLE, StatusCode.Code.DEADLINE_EXCEEDED);

  /**
   * Waits for an operation on the calling (blocking) thread. An operation that ends with an error
   * fails like a refused call; one that is not done within {@code timeout} fails as
   * unavailable (GCE goes on with it: the janitor finds what it makes).
   */
  static Operation await(OperationFuture<Operation, Operation> future, Duration timeout, String what) {
    try {
      Operation op = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (op.getError().getErrorsCount() > 0) {
        throw new Failed(GceErrors.ofOperation(op), null);
      }
      return op;
    } catch (ExecutionException e) {
      Operation last = lastSnapshot(future);
      if (last != null && last.getError().getErrorsCount() > 0) {
        throw new Failed(GceErrors.ofOperation(last), e.getCause());
      }
      if (e.getCause() instanceof CancellationException) {
        throw notDone(future, what, timeout, e.getCause());
      }
      throw new Failed(GceErrors.ofCall(e.getCause()), e.getCause());
    } catch (TimeoutException | CancellationException e) {
      future.cancel(true);
      throw notDone(future, what, timeout, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      throw new Failed(new GceErrors.Failure(Kind.UNAVAILABLE, false, false, "interrupted while waiting for the " + what), e);
    }
  }

  private static Failed notDone(OperationFuture<Operation, Operation> future, String what, Duration timeout, Throwable cause) {
    String op = "";
    try {
      // The client names it "operation:project:zone".
      op = future.getInitialFuture().isDone() ? " (" + future.getName().split(":")[0] + ")" : "";
    } catch (ExecutionException | InterruptedException | RuntimeException e) {
      // The insert itself never got an answer: no operation to name.
    }
    return new Failed(new GceErrors.Failure(Kind.UNAVAILABLE, false, false, "the " + what + " was not done after " + words(timeout)
        + op + "; it may still happen, and the VM's labels let the janitor find it"), cause);
  }

  /** {@code 5m}, {@code 30s}, {@code 300ms}: as the config says it. */
  static String words(Duration d) {
    long ms = d.toMillis();
    return ms % 60_000 == 0 ? ms / 60_000 + "m" : ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }

  /** The operation as last polled, when the failure came from the operation rather than a call. */
  private static Operation lastSnapshot(OperationFuture<Operation, Operation> future) {
    try {
      var metadata = future.peekMetadata();
      return metadata != null && metadata.isDone() ? metadata.get() : null;
    } catch (ExecutionException | InterruptedException | RuntimeException e) {
      return null;
    }
  }

  /** A failed call or operation on its way to a {@link ProviderException} with its context. */
  static final class Failed extends RuntimeException {
    final GceErrors.Failure failure;

    Failed(GceErrors.Failure failure, Throwable cause) {
      super(failure.message(), cause, false, false);
      this.failure = failure;
    }

    ProviderException toProvider(String context) {
      return new ProviderException(failure.kind(), context + ": " + failure.message(), getCause());
    }
  }

  /**
   * A client whose inserts and deletes (with their request ids) and reads are retried on 500, 503
   * and timeouts, {@code retries} times from {@code retry-delay} apart, and whose operations are
   * polled from a tenth of the poll interval growing to it, for at most the operation timeout.
   */
  static InstancesClient create(Settings s, CredentialsProvider credentials) throws IOException {
    InstancesSettings.Builder b = InstancesSettings.newBuilder().setCredentialsProvider(credentials);
    if (!s.endpoint().isEmpty()) {
      b.setEndpoint(s.endpoint());
    }
    RetrySettings calls = RetrySettings.newBuilder()
        .setInitialRetryDelayDuration(s.retryDelay())
        .setRetryDelayMultiplier(2.0)
        .setMaxRetryDelayDuration(s.retryDelay().multipliedBy(8))
        .setMaxAttempts(s.retries() + 1)
        .setInitialRpcTimeoutDuration(CALL_TIMEOUT)
        .setRpcTimeoutMultiplier(1.0)
        .setMaxRpcTimeoutDuration(CALL_TIMEOUT)
        .setTotalTimeoutDuration(s.operationTimeout())
        .build();
    Duration firstPoll = s.pollInterval().dividedBy(10);
    RetrySettings polls = RetrySettings.newBuilder()
        .setInitialRetryDelayDuration(firstPoll.isZero() ? s.pollInterval() : firstPoll)
        .setRetryDelayMultiplier(1.5)
        .setMaxRetryDelayDuration(s.pollInterval())
        .setInitialRpcTimeoutDuration(CALL_TIMEOUT)
        .setRpcTimeoutMultiplier(1.0)
        .setMaxRpcTimeoutDuration(CALL_TIMEOUT)
        .setTotalTimeoutDuration(s.operationTimeout())
        .build();
    b.insertOperationSettings()
        .setInitialCallSettings(UnaryCallSettings.<InsertInstanceRequest, OperationSnapshot>newUnaryCallSettingsBuilder()
            .setRetryableCodes(RETRYABLE).setRetrySettings(calls).build())
        .setPollingAlgorithm(OperationTimedPollAlgorithm.create(polls));
    b.deleteOperationSettings()
        .setInitialCallSettings(UnaryCallSettings.<DeleteInstanceRequest, OperationSnapshot>newUnaryCallSettingsBuilder()
            .setRetryableCodes(RETRYABLE).setRetrySettings(calls).build())
        .setPollingAlgorithm(OperationTimedPollAlgorithm.create(polls));
    b.aggregatedListSettings().setRetryableCodes(RETRYABLE).setRetrySettings(calls);
    b.getSettings().setRetryableCodes(RETRYABLE).setRetrySettings(calls);
    return InstancesClient.create(b.build());
  }

  /** The key file's service account, or the application default credentials. */
  static CredentialsProvider credentials(Settings s) {
    if (s.credentialsFile().equals(Settings.NO_CREDENTIALS)) {
      // A local fake or an emulator: it takes requests with no Authorization header.
      return com.google.api.gax.core.NoCredentialsProvider.create();
    }
    if (s.credentialsFile().isEmpty()) {
      return InstancesSettings.defaultCredentialsProviderBuilder().build();
    }
    Path file = Path.of(s.credentialsFile());
    try (InputStream in = Files.newInputStream(file)) {
      return FixedCredentialsProvider.create(GoogleCredentials.fromStream(in).createScoped(GceInstances.CLOUD_PLATFORM));
    } catch (IOException e) {
      throw new IllegalArgumentException(Settings.PATH + ".credentials-file: cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
