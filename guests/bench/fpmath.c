// SPDX-License-Identifier: MIT
// Benchmark: floating point on the FPU (the guest is built -mhard-float for the 24Kf). Three kernels:
//  - n-body: a star and four planets on inclined, eccentric orbits under Newtonian gravity, integrated with
//    the symplectic Euler (kick, then drift) method in double precision: add, sub, mul, div, sqrt on doubles,
//    with the energy before and after as a check (it must stay within 1e-4 relative: the method is stable).
//  - mandelbrot: the escape-time image of the whole set in single precision, and a zoom into the boundary in
//    double precision: FP compares and branches, int-to-float conversions, sqrt.s on the escaped points.
//  - matrix multiply: C = A B and D = C A on 48x48 doubles (loads and stores of doubles in an i-k-j loop),
//    then the trace and the Frobenius norm.
// Every operation is a single IEEE-754 rounding on both the 24Kf and the host's SSE unit (the twin is built
// without FMA contraction), so the results must agree bit for bit; they are printed as the bit patterns in
// hex (what the comparison checks) and as rounded decimals (for reading). No NaNs, infinities or denormals
// arise: those are where FPUs legitimately differ (the 24Kf's NaN encoding is not the host's).
#include "../workloads/workload.h"

// ------------------------------------------------------------------ helpers

static uint64_t bits64(double d) {
  union {
    double d;
    uint64_t u;
  } v = {d};
  return v.u;
}

static uint32_t bits32(float f) {
  union {
    float f;
    uint32_t u;
  } v = {f};
  return v.u;
}

static double abs_d(double x) {
  return x < 0 ? -x : x;
}

// FNV-1a over 32-bit words.
static uint32_t fnv(uint32_t h, uint32_t word) {
  for (int i = 0; i < 4; i++) {
    h ^= (word >> (8 * i)) & 0xffu;
    h *= 16777619u;
  }
  return h;
}

static uint32_t fnv_d(uint32_t h, double d) {
  uint64_t u = bits64(d);
  return fnv(fnv(h, (uint32_t)u), (uint32_t)(u >> 32));
}

// Prints "<label>=<decimal> (<16 hex digits>)": the decimal has 9 digits after the point, computed in
// double precision (the same operations on both sides), |x| must be below 2^32.
static void print_d(const char* label, double x) {
  const char* sign = x < 0 ? "-" : "";
  double a = abs_d(x);
  uint32_t ip = (uint32_t)a;
  uint32_t frac = (uint32_t)((a - (double)ip) * 1e9 + 0.5);
  if (frac >= 1000000000u) {
    frac -= 1000000000u;
    ip++;
  }
  uint64_t u = bits64(x);
  wl_printf("%s=%s%u.%09u (%08x%08x)\n", label, sign, ip, frac, (uint32_t)(u >> 32), (uint32_t)u);
}

// A double in [-1, 1) from the xorshift generator: the int32 conversion and a scale by 2^-31, both exact.
static double rand_unit(uint32_t* state) {
  return (double)(int32_t)wl_rand(state) * (1.0 / 2147483648.0);
}

// ------------------------------------------------------------------ n-body

#define NBODY 5
#define NBODY_STEPS 10000
#define NBODY_DT 0.001

struct body {
  double x, y, z, vx, vy, vz, m;
};

static struct body bodies[NBODY];

// The star (mass 1, G = 1) at the origin and planets at radii 1, 1.7, 2.6, 3.9 with masses of a few 1e-3,
// slightly inclined, each at 0.92-1.0 times the circular speed (eccentric orbits). The star then gets the
// opposite of the planets' momentum, so the centre of mass stays put.
static void nbody_init(void) {
  static const double radius[NBODY - 1] = {1.0, 1.7, 2.6, 3.9};
  static const double mass[NBODY - 1] = {0.003, 0.0012, 0.004, 0.0007};
  uint32_t seed = 0x5eed1234u;
  struct body* star = &bodies[0];
  *star = (struct body){0, 0, 0, 0, 0, 0, 1.0};
  for (int k = 1; k < NBODY; k++) {
    struct body* b = &bodies[k];
    double r = radius[k - 1];
    double c = rand_unit(&seed), s = rand_unit(&seed);  // a direction in the plane, normalised below
    double n = __builtin_sqrt(c * c + s * s);
    c /= n;
    s /= n;
    double tilt = 0.05 * rand_unit(&seed);
    double speed = __builtin_sqrt(1.0 / r) * (0.96 + 0.04 * rand_unit(&seed));
    b->x = r * c;
    b->y = r * s;
    b->z = r * tilt;
    b->vx = -speed * s;
    b->vy = speed * c;
    b->vz = -speed * tilt * 0.5;
    b->m = mass[k - 1];
    star->vx -= b->vx * b->m;
    star->vy -= b->vy * b->m;
    star->vz -= b->vz * b->m;
  }
}

static void nbody_step(double dt) {
  for (int i = 0; i < NBODY; i++) {
    struct body* a = &bodies[i];
    for (int j = i + 1; j < NBODY; j++) {
      struct body* b = &bodies[j];
      double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
      double d2 = dx * dx + dy * dy + dz * dz;
      double mag = dt / (d2 * __builtin_sqrt(d2));
      double ma = a->m * mag, mb = b->m * mag;
      a->vx -= dx * mb;
      a->vy -= dy * mb;
      a->vz -= dz * mb;
      b->vx += dx * ma;
      b->vy += dy * ma;
      b->vz += dz * ma;
    }
  }
  for (int i = 0; i < NBODY; i++) {
    struct body* a = &bodies[i];
    a->x += dt * a->vx;
    a->y += dt * a->vy;
    a->z += dt * a->vz;
  }
}

static double nbody_energy(void) {
  double e = 0;
  for (int i = 0; i < NBODY; i++) {
    const struct body* a = &bodies[i];
    e += 0.5 * a->m * (a->vx * a->vx + a->vy * a->vy + a->vz * a->vz);
    for (int j = i + 1; j < NBODY; j++) {
      const struct body* b = &bodies[j];
      double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
      e -= a->m * b->m / __builtin_sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return e;
}

static int nbody(void) {
  nbody_init();
  double e0 = nbody_energy();
  for (int s = 0; s < NBODY_STEPS; s++) nbody_step(NBODY_DT);
  double e1 = nbody_energy();
  uint32_t h = 2166136261u;
  for (int i = 0; i < NBODY; i++) {
    const struct body* b = &bodies[i];
    h = fnv_d(fnv_d(fnv_d(h, b->x), b->y), b->z);
    h = fnv_d(fnv_d(fnv_d(h, b->vx), b->vy), b->vz);
  }
  wl_printf("nbody: %u bodies, %u steps\n", (uint32_t)NBODY, (uint32_t)NBODY_STEPS);
  print_d("nbody: energy before", e0);
  print_d("nbody: energy after", e1);
  print_d("nbody: planet 1 x", bodies[1].x);
  print_d("nbody: planet 4 vy", bodies[4].vy);
  wl_printf("nbody: state fnv=%08x\n", h);
  double drift = abs_d((e1 - e0) / e0);
  if (!(drift < 1e-4)) {
    wl_printf("nbody: energy drift too large\n");
    return 1;
  }
  return 0;
}

// ------------------------------------------------------------------ mandelbrot

#define MF_W 128
#define MF_H 96
#define MF_ITER 128
#define MD_W 64
#define MD_H 48
#define MD_ITER 500

// Single precision, the whole set: [-2.2, 1.0] x [-1.2, 1.2].
static void mandel_float(void) {
  const float x0 = -2.2f, y0 = -1.2f, dx = 3.2f / MF_W, dy = 2.4f / MF_H;
  uint32_t total = 0, inside = 0, h = 2166136261u;
  float escaped = 0;  // sum of |z| at escape
  for (int py = 0; py < MF_H; py++) {
    float ci = y0 + (float)py * dy;
    for (int px = 0; px < MF_W; px++) {
      float cr = x0 + (float)px * dx;
      float zr = 0, zi = 0, zr2 = 0, zi2 = 0;
      int n = 0;
      while (n < MF_ITER && zr2 + zi2 <= 4.0f) {
        zi = 2.0f * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        zr2 = zr * zr;
        zi2 = zi * zi;
        n++;
      }
      total += (uint32_t)n;
      h = fnv(h, (uint32_t)n);
      if (n == MF_ITER)
        inside++;
      else
        escaped += __builtin_sqrtf(zr2 + zi2);
    }
  }
  wl_printf("mandel32: %ux%u, %u iterations, %u inside, counts fnv=%08x, escape sum=%08x\n", (uint32_t)MF_W,
            (uint32_t)MF_H, total, inside, h, bits32(escaped));
}

// Double precision, a 0.006-wide window on the boundary near -0.7436 + 0.1318i (seahorse valley).
static void mandel_double(void) {
  const double w = 0.006, x0 = -0.7436 - w / 2, y0 = 0.1318 - w * MD_H / MD_W / 2, step = w / MD_W;
  uint32_t total = 0, inside = 0, h = 2166136261u;
  double last = 0;  // zr of the last escaped point
  for (int py = 0; py < MD_H; py++) {
    double ci = y0 + (double)py * step;
    for (int px = 0; px < MD_W; px++) {
      double cr = x0 + (double)px * step;
      double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
      int n = 0;
      while (n < MD_ITER && zr2 + zi2 <= 4.0) {
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        zr2 = zr * zr;
        zi2 = zi * zi;
        n++;
      }
      total += (uint32_t)n;
      h = fnv(h, (uint32_t)n);
      if (n == MD_ITER)
        inside++;
      else
        last = zr;
    }
  }
  wl_printf("mandel64: %ux%u, %u iterations, %u inside, counts fnv=%08x\n", (uint32_t)MD_W, (uint32_t)MD_H,
            total, inside, h);
  print_d("mandel64: last escaped zr", last);
}

// ------------------------------------------------------------------ matrix multiply

#define MAT_N 48

static double mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N], mat_d[MAT_N][MAT_N];

// out = x y, in i-k-j order (the inner loop streams a row of y and of out).
static void matmul(double out[MAT_N][MAT_N], const double x[MAT_N][MAT_N], const double y[MAT_N][MAT_N]) {
  for (int i = 0; i < MAT_N; i++) {
    for (int j = 0; j < MAT_N; j++) out[i][j] = 0;
    for (int k = 0; k < MAT_N; k++) {
      double xik = x[i][k];
      for (int j = 0; j < MAT_N; j++) out[i][j] += xik * y[k][j];
    }
  }
}

static void matrices(void) {
  uint32_t seed = 0x0badf00du;
  for (int i = 0; i < MAT_N; i++)
    for (int j = 0; j < MAT_N; j++) {
      mat_a[i][j] = rand_unit(&seed);
      mat_b[i][j] = rand_unit(&seed) * 0.25 + (i == j ? 1.0 : 0.0);
    }
  matmul(mat_c, mat_a, mat_b);
  matmul(mat_d, mat_c, mat_a);
  double trace = 0, sum2 = 0;
  uint32_t h = 2166136261u;
  for (int i = 0; i < MAT_N; i++) {
    trace += mat_d[i][i];
    for (int j = 0; j < MAT_N; j++) {
      sum2 += mat_d[i][j] * mat_d[i][j];
      h = fnv_d(h, mat_d[i][j]);
    }
  }
  wl_printf("matmul: %ux%u, D = (A B) A, elements fnv=%08x\n", (uint32_t)MAT_N, (uint32_t)MAT_N, h);
  print_d("matmul: trace", trace);
  print_d("matmul: frobenius", __builtin_sqrt(sum2));
}

int workload_main(void) {
  int status = nbody();
  mandel_float();
  mandel_double();
  matrices();
  wl_printf("fpmath: done\n");
  return status;
}
